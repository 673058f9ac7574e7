"""The contents plugin: the ``Contents`` service on the local disk.

Layout (the plugin template, see docs/writing-a-plugin.md): ``plugin`` (declaration and
hooks), ``settings`` (the ``[contents]`` section), ``routes`` (``/api/contents``) and
``files_routes`` (``/files``), ``openapi.yaml`` (their spec); the service: ``service``
(``LocalContents``) over ``store`` (disk operations), helped by ``paths``, ``models``,
``notebooks``, ``checkpoints``, ``naming``, ``uploads``, ``trash``, ``atomic``, ``batch``.
"""
