"""The application service every adapter calls, and the chat interactions they share."""
