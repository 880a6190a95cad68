"""The command line: parse options, call the library, render, map errors to exit codes.

This package is the only place that prints or exits; each command lives in a module of its own,
and importing that module registers the command. `tariffcalc quote ...` imports only the quote
command (start-up time matters in shell loops); ``app`` (for tests and help) has all of them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from ._app import ExitCode

__all__ = ["ExitCode", "app", "main"]

COMMANDS = ("quote", "batch", "refunds", "rates", "timeline", "hts", "validate")


def _register(names: tuple[str, ...] = COMMANDS) -> Any:
    for name in names:
        importlib.import_module(f"{__name__}.{name}")
    from ._app import app

    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _register()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    # The only option before the command is the flag --debug, so the first word that is not
    # an option names the command.
    command = next((word for word in sys.argv[1:] if not word.startswith("-")), None)
    _register((command,) if command in COMMANDS else COMMANDS)()
