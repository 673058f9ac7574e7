"""The auth plugin: token authentication, identity and authorization for every route."""
