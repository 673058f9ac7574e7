"""The jupyterhub plugin: modserver as a JupyterHub single-user server.

``plugin`` declares it (and detects a spawned server's ``JUPYTERHUB_*`` environment);
``environment`` reads that environment; ``hub_client`` talks to the hub's REST API;
``identity`` and ``authorizer`` are the services it provides in place of ``auth``;
``cookies`` signs the token and OAuth-state cookies; ``middleware`` sends browsers to the
hub's login and hands out the ``_xsrf`` cookie; ``oauth_routes`` and ``me_routes`` are
its routes; ``activity`` reports the server's activity to the hub.
"""
