"""Command handlers, one module per command family: `(command, context) -> Message`."""
