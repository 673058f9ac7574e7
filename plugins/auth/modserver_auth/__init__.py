"""The auth plugin: who may call this server, and what they may do.

Layout (the plugin template, see docs/writing-a-plugin.md): ``plugin`` (declaration and
hooks), ``settings`` (the ``[auth]`` section), ``login_routes`` (``/login``, ``/logout``)
and ``me_routes`` (``/api/me``), ``openapi.yaml``; per-app state: ``runtime``. The
services and their helpers, one job each: ``tokens``, ``passwords``, ``cookies`` and
``secret_file`` (the login cookie), ``xsrf``, ``hosts`` and ``middleware`` (Host/Origin
checks, CORS, token-to-cookie, login redirects), ``users`` (who exists), ``identity``
(the Identity service), ``authorizer`` (roles), ``throttle``, ``redirects`` (safe
``next``), ``keepalive``, ``cli`` (``modserver password``). See docs/security.md.
"""
