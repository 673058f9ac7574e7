"""The kernels plugin."""
