"""The commands, one module per domain; importing this package registers them on ``cli.main.app``."""
from . import cases, check, churn, data, journeys, lifecycle, loyalty, perception, run, text, value, voice, web  # noqa: F401
