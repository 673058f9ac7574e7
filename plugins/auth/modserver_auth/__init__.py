"""The auth plugin: who may call this server, and what they may do.

Modules, one job each: ``settings`` (the ``[auth]`` section), ``tokens``, ``passwords``,
``cookies`` and ``secret_file`` (the login cookie), ``xsrf``, ``hosts`` and ``middleware``
(Host/Origin checks, CORS, token-to-cookie, login redirects), ``users`` (who exists),
``identity`` (the Identity service), ``authorizer`` (roles), ``login_routes``,
``me_routes`` (``/api/me``), ``throttle``, ``redirects`` (safe ``next``), ``cli``
(``modserver password``), ``runtime`` (per-app state) and ``plugin`` (the declaration).
See docs/security.md.
"""
