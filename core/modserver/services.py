"""A typed service registry: plugins provide implementations of interfaces, others get them.

Each plugin sees the registry through a ``ServiceView`` limited to what it declared, so an
undeclared dependency fails loudly in development instead of working by accident.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, cast

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Interface(Protocol[T_co]):
    """A service interface: any class, abstract ones included, whose instances are ``T_co``.

    ``type[T]`` would do, but mypy refuses abstract classes where ``type[T]`` is expected
    (they cannot be instantiated); service interfaces are abstract by nature. A class
    matches this protocol through its constructor and its name, abstract or not.
    """

    __name__: str

    def __call__(self, *args: Any, **kwargs: Any) -> T_co: ...


def _as_type(interface: Interface[object]) -> type:
    """The class behind ``interface`` (always a class at run time), for ``isinstance``."""
    return cast(type, interface)


class ServiceError(RuntimeError):
    """A service was provided or requested against the plugin's declarations."""


class ServiceRegistry:
    """Maps an interface type to the one implementation some plugin provided."""

    def __init__(self) -> None:
        self._services: dict[type, tuple[str, object]] = {}

    def provide(self, interface: Interface[T], implementation: T, *, by: str) -> None:
        """Register ``implementation`` as the ``interface`` service, provided by plugin ``by``."""
        key = _as_type(interface)
        if not isinstance(implementation, key):
            raise ServiceError(
                f"plugin {by!r} provided {type(implementation).__name__} for "
                f"{interface.__name__}, but it is not an instance of that interface"
            )
        if key in self._services:
            other = self._services[key][0]
            raise ServiceError(f"service {interface.__name__} already provided by {other!r}")
        self._services[key] = (by, implementation)

    def get(self, interface: Interface[T]) -> T:
        """Return the implementation of ``interface``; ServiceError if nobody provided it."""
        try:
            return cast(T, self._services[_as_type(interface)][1])
        except KeyError:
            raise ServiceError(
                f"service {interface.__name__} is not available (not provided yet, or its "
                "plugin is not enabled)"
            ) from None

    def find(self, interface: Interface[T]) -> T | None:
        """Return the implementation of ``interface`` or None."""
        entry = self._services.get(_as_type(interface))
        return cast(T, entry[1]) if entry else None

    def __contains__(self, interface: type) -> bool:
        return interface in self._services


class ServiceView:
    """One plugin's window on the registry: only the services it declared."""

    def __init__(
        self,
        registry: ServiceRegistry,
        plugin: str,
        provides: tuple[type, ...],
        requires: tuple[type, ...],
        optional: tuple[type, ...],
    ) -> None:
        self._registry = registry
        self._plugin = plugin
        self._provides = provides
        self._usable = provides + requires + optional

    def provide(self, interface: Interface[T], implementation: T) -> None:
        """Provide ``interface``; it must be listed in the plugin's ``provides``."""
        if _as_type(interface) not in self._provides:
            raise ServiceError(
                f"plugin {self._plugin!r} provides {interface.__name__} without declaring it: "
                "add it to the plugin's `provides`"
            )
        self._registry.provide(interface, implementation, by=self._plugin)

    def check_provided(self) -> None:
        """Raise ``ServiceError`` if a service in ``provides`` has not been provided.

        Called once the plugin's lifespan has started, so a forgotten ``provide`` names
        the plugin at startup instead of failing requests later.
        """
        missing = [i.__name__ for i in self._provides if i not in self._registry]
        if missing:
            names = ", ".join(missing)
            raise ServiceError(
                f"it declares provides=({names},) but did not provide {names} when its "
                f"lifespan started: call context.services.provide({missing[0]}, ...) in "
                "modserver_lifespan before it yields, or remove it from `provides`"
            )

    def get(self, interface: Interface[T]) -> T:
        """Return a required (or provided) service."""
        self._check_declared(interface)
        return self._registry.get(interface)

    def get_optional(self, interface: Interface[T]) -> T | None:
        """Return an optional service, or None when no enabled plugin provides it."""
        self._check_declared(interface)
        return self._registry.find(interface)

    def _check_declared(self, interface: Interface[object]) -> None:
        if _as_type(interface) not in self._usable:
            raise ServiceError(
                f"plugin {self._plugin!r} uses {interface.__name__} without declaring it: "
                "add it to the plugin's `requires` (or `optional`)"
            )
