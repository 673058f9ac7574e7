"""The kernels plugin: the ``Kernels`` service, kernel REST routes and WebSockets.

Layout (the plugin template, see docs/writing-a-plugin.md): ``plugin`` (declaration and
hooks), ``settings`` (the ``[kernels]`` section), ``routes`` (``/api/kernels`` and the
WebSocket) and ``kernelspec_routes`` (``/api/kernelspecs``), ``openapi.yaml`` (their
spec); the service: ``manager`` (``KernelRegistry``), ``client`` (one shared client per
kernel), ``links``, ``connection`` (one WebSocket), ``wire`` (message framing).
"""
