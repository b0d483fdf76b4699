"""The built-in demo's tree (`demo-site/`), shipped as package data so a wheel has it too."""
