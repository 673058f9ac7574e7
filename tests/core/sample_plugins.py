"""Tiny plugins for the resolution tests, loaded through real EntryPoint objects."""

from __future__ import annotations

from modserver import Plugin


class Alpha:
    """A service interface."""


class Beta:
    """Another service interface."""


class Gamma:
    """A service nobody provides."""


def make(
    name: str,
    provides: tuple[type, ...] = (),
    requires: tuple[type, ...] = (),
    optional: tuple[type, ...] = (),
) -> Plugin:
    cls = type(
        f"{name.title()}Plugin",
        (Plugin,),
        {"name": name, "provides": provides, "requires": requires, "optional": optional},
    )
    return cls()


alpha = make("alpha", provides=(Alpha,))
alpha_too = make("alpha_too", provides=(Alpha,))
beta = make("beta", provides=(Beta,), requires=(Alpha,))
user = make("user", requires=(Beta,))
lonely = make("lonely", requires=(Gamma,))
cycle_a = make("cycle_a", provides=(Gamma,), requires=(Beta,))
cycle_b = make("cycle_b", provides=(Beta,), requires=(Gamma,))
optional_user = make("optional_user", optional=(Alpha,))
misnamed = make("something_else")
not_a_plugin = object()
