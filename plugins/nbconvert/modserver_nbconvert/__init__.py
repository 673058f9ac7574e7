"""The nbconvert plugin: "Save and Export Notebook As" (``/nbconvert``, ``/api/nbconvert``).

Layout (the plugin template, see docs/writing-a-plugin.md): ``plugin`` (declaration and
hooks), ``settings`` (``[nbconvert]``), ``routes`` (both routes), ``openapi.yaml``; the
service: ``exporters`` (which formats exist here and what each needs) and ``converter``
(runs nbconvert in a worker thread, bounded in number and time).
"""
