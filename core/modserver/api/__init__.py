"""Service interfaces shared between plugins: the only thing plugins import from each other.

Each module holds one service's abstract interface and its models. A plugin provides an
implementation (``context.services.provide(Contents, MyContents())``); another receives it
by type (``context.services.get(Contents)``), so implementations can be swapped freely.
"""
