"""Declaration of the contents plugin (placeholder until the plugin lands)."""

from modserver import Plugin


class ContentsPlugin(Plugin):
    name = "contents"
    version = "0.1.0"
    description = "(not implemented yet)"


plugin = ContentsPlugin()
