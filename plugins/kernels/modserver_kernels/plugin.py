"""Declaration of the kernels plugin (placeholder until the plugin lands)."""

from modserver import Plugin


class KernelsPlugin(Plugin):
    name = "kernels"
    version = "0.1.0"
    description = "(not implemented yet)"


plugin = KernelsPlugin()
