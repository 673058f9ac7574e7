"""The sessions plugin: the ``Sessions`` service and ``/api/sessions``.

Layout (the plugin template, see docs/writing-a-plugin.md): ``plugin`` (declaration and
hooks; no settings), ``routes`` (``/api/sessions``) and ``resolve_routes``
(``/api/resolvePath``), ``openapi.yaml`` (their spec); the service: ``manager``
(``SessionManager``, the session table).
"""
