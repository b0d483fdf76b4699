"""Platform adapters: translate a platform's requests into core commands and render replies."""
