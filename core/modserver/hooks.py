"""Calling hooks for one app: each implementation receives its own plugin's context.

pluggy calls every implementation with the same arguments, but a plugin object is loaded
once per process and may serve several apps; its running state lives in the per-app
``PluginContext``. So the core calls implementations itself, plugin by plugin in
dependency order, and passes each one ``context=`` the context of the plugin that owns it.
Implementations still take only the arguments they name (pluggy's rule).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from modserver.plugin import Plugin, PluginContext


def call_plugin_hook(
    pm: pluggy.PluginManager, plugin: Plugin, hook_name: str, **kwargs: Any
) -> Any:
    """Call one plugin's implementation of a hook (None if it has none).

    Calling plugins one by one keeps dependency order and lets errors name the plugin.
    """
    caller = getattr(pm.hook, hook_name)
    for impl in caller.get_hookimpls():
        if impl.plugin is plugin:
            return impl.function(*(kwargs[name] for name in impl.argnames))
    return None


class AppHooks:
    """The hooks of one app, called as ``context.hook.<name>(**kwargs)``.

    Every enabled plugin's implementation runs in dependency order and receives, besides
    the arguments the caller gave, ``context``: the implementing plugin's own context in
    this app. The result is the list of non-None answers, in that order (the first of them
    for a ``firstresult`` hookspec).
    """

    def __init__(
        self,
        pm: pluggy.PluginManager,
        plugins: Sequence[Plugin],
        contexts: Mapping[str, PluginContext],
    ) -> None:
        self._pm = pm
        self._plugins = list(plugins)
        self._contexts = contexts

    def call(self, hook_name: str, **kwargs: Any) -> Any:
        """Call hook ``hook_name`` on every enabled plugin that implements it."""
        if "context" in kwargs:
            raise TypeError("hooks receive their own plugin's context: do not pass context=")
        caller = getattr(self._pm.hook, hook_name, None)
        if caller is None:
            raise AttributeError(f"no hook named {hook_name!r} is declared by an enabled plugin")
        first_only = bool(caller.spec and caller.spec.opts.get("firstresult"))
        results = []
        for plugin in self._plugins:
            answer = call_plugin_hook(
                self._pm, plugin, hook_name, **kwargs, context=self._contexts[plugin.name]
            )
            if answer is not None:
                if first_only:
                    return answer
                results.append(answer)
        return None if first_only else results

    def implemented(self, hook_name: str) -> bool:
        """True if some enabled plugin implements hook ``hook_name``."""
        caller = getattr(self._pm.hook, hook_name, None)
        if caller is None:
            return False
        enabled = {id(plugin) for plugin in self._plugins}
        return any(id(impl.plugin) in enabled for impl in caller.get_hookimpls())

    def __getattr__(self, hook_name: str) -> Callable[..., Any]:
        if hook_name.startswith("_"):
            raise AttributeError(hook_name)

        def caller(**kwargs: Any) -> Any:
            return self.call(hook_name, **kwargs)

        return caller
