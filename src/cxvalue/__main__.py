from .interfaces.cli.main import entry

entry()
