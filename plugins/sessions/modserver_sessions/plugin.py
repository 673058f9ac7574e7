"""Declaration of the sessions plugin (placeholder until the plugin lands)."""

from modserver import Plugin


class SessionsPlugin(Plugin):
    name = "sessions"
    version = "0.1.0"
    description = "(not implemented yet)"


plugin = SessionsPlugin()
