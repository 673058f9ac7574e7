"""Startup benchmark: spawn to first 200 on /api/status, and idle memory, vs jupyter_server."""
