"""The command line: parse options, call the library, render, map errors to exit codes.

This package is the only place that prints or exits; each command lives in a module of its own.
"""

from . import batch, hts, quote, rates, timeline, validate  # noqa: F401  (registers the commands)
from ._app import ExitCode, app

__all__ = ["ExitCode", "app", "main"]


def main() -> None:
    app()
