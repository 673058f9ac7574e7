"""Browser-level benchmark: JupyterLab in chromium on modserver and on jupyter_server."""
