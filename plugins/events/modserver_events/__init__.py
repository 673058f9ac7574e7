"""The events plugin: the ``Events`` service and jupyter_server's event bus API.

Layout (the plugin template, see docs/writing-a-plugin.md): ``plugin`` (declaration and
hooks), ``settings`` (``[events]``), ``routes`` (``POST /api/events`` and the
``/api/events/subscribe`` WebSocket), ``openapi.yaml``; the service: ``bus``
(``EventBus``, over a ``jupyter_events.EventLogger``) and ``subscriber`` (one WebSocket's
bounded queue); ``schemas/`` holds the standard schemas of contents and kernel actions.
"""
