"""Small pieces for long-running loops: background task sets, do-once sets."""
