"""The contents plugin."""
