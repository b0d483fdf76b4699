"""Text from outside made safe: cleaning and limits, secret redaction (G3), signed links (G4)."""
