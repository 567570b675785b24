from .interfaces.cli.entry import entry

entry()
