"""Collaboration benchmark: many y-websocket clients editing one shared notebook."""
