"""The config plugin: frontend config sections at ``/api/config/{section}``.

Layout (the plugin template, see docs/writing-a-plugin.md): ``plugin`` (declaration and
hooks), ``settings`` (the ``[config]`` section), ``routes``, ``openapi.yaml``; the
service: ``store`` (``ConfigStore``, one JSON file per section).
"""
