"""Terminal benchmark: keystroke-to-echo round trip, modserver against jupyter_server."""
