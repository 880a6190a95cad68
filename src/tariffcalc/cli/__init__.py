"""The command line: parse options, call the library, render, map errors to exit codes.

This package is the only place that prints or exits; each command lives in a module of its own,
and importing that module registers the command. `tariffcalc quote ...` imports only the quote
command (start-up time matters in shell loops); ``app`` (for tests and help) has all of them.
"""

from __future__ import annotations

import errno
import importlib
import signal
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import FrameType

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
    if name == "ExitCode":  # imported on demand: main() must be running before typer loads
        from ._app import ExitCode

        return ExitCode
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (`kill`, `timeout`, a closed terminal): stops the command as Ctrl-C
    does, so that every half-written output and temporary file is removed on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# The signals that stopped the command. The exception a signal raises may come in the middle of
# a library's code that swallows it ("Exception ignored in ...") and then fails otherwise: the
# command still reports being stopped (see _app.guarded).
_stopped_by: list[int] = []


def stop_signal() -> int | None:
    """The signal that stopped the command (SIGINT, SIGTERM, SIGHUP), if one did."""
    return _stopped_by[0] if _stopped_by else None


def raise_if_stopped() -> None:
    """Stop now if a signal came whose exception a library swallowed and then carried on (one
    handled in the hooks Python runs around a fork, say): called before an output is kept,
    so that Ctrl-C never leaves a finished-looking output behind."""
    signum = stop_signal()
    if signum is not None:
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated(signum)


def _terminate(signum: int, _frame: object) -> None:
    _stopped_by.append(signum)
    raise Terminated(signum)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _stopped_by.append(signum)
    signal.default_int_handler(signum, frame)  # KeyboardInterrupt


class _Closed:
    """Standard output or error when the shell closed it (`>&-`): writing to it fails as a
    closed file does, which the command reports, instead of a crash on None."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, _data: object) -> int:
        raise OSError(errno.EBADF, f"standard {self.name} is closed")

    @property
    def buffer(self) -> _Closed:  # the binary side: closed alike
        return self

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, f"standard {self.name} is closed")


def main() -> None:
    if sys.stdout is None:
        sys.stdout = _Closed("output")
    if sys.stderr is None:
        sys.stderr = _Closed("error")
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminate)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not ignored (`nohup`)
        signal.signal(signal.SIGINT, _interrupt)
    try:
        # The only option before the command is the flag --debug, so the first word that is
        # not an option names the command.
        command = next((word for word in sys.argv[1:] if not word.startswith("-")), None)
        _register((command,) if command in COMMANDS else COMMANDS)()
    except KeyboardInterrupt as stop:  # before a command runs (loading): no traceback
        sys.stderr.write("tariffcalc: interrupted\n")
        sys.exit(128 + stop.signum if isinstance(stop, Terminated) else 130)
