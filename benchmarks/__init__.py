"""Side-by-side benchmarks of modserver against jupyter_server and direct ZMQ."""
