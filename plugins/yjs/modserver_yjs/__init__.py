"""The yjs plugin: real-time collaboration for the jupyter-collaboration frontend.

Layout (the plugin template, see docs/writing-a-plugin.md): ``plugin`` (declaration and
hooks), ``settings`` (the ``[yjs]`` section), ``routes`` (the session PUT and the room
WebSocket), ``openapi.yaml``; the services: ``fileids`` (the ``FileIds`` service in SQLite),
``rooms`` (``RoomRegistry``, one per app), ``room`` (a room and its clients), ``document``
(a file's room: load, save, disk changes), ``history`` (documents' Yjs history kept in
SQLite), ``execution`` (cells run by the server), ``connection`` (one room WebSocket), ``protocol``
(the y-websocket wire format).
"""
