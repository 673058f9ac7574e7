"""The sessions plugin."""
