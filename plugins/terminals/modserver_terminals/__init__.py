"""The terminals plugin: shells in real PTYs, ``/api/terminals`` and the terminal WebSocket.

Layout (the plugin template, see docs/writing-a-plugin.md): ``plugin`` (declaration and
hooks), ``settings`` (the ``[terminals]`` section), ``routes`` (``/api/terminals`` and the
WebSocket), ``openapi.yaml`` (their spec); the service: ``manager`` (``TerminalRegistry``,
one per app), ``terminal`` (one shell, its clients and scrollback), ``pty_process`` (the
PTY and its process session), ``connection`` (one WebSocket speaking terminado's protocol).
"""
