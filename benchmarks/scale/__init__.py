"""Scale benchmark: many kernels, many WebSockets and a huge folder, beside jupyter_server."""
