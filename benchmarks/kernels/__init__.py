"""Kernel benchmarks: modserver vs jupyter_server vs the kernel driven directly over ZMQ."""
