"""Running jobs (B1, C4, B5): executor, runners, progress, scheduled fires, retention, export."""
