"""What comes in (A7): commands and the one grammar, button actions, forms, and cleaning."""
