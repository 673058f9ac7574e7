"""The config plugin: frontend config sections at ``/api/config/{section}``."""
