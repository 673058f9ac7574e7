"""Contents API benchmark: modserver against jupyter_server on the same folder."""
