"""Option values handed to the commands as the command line gives them.

typer (from 0.2x) converts every option's value to its annotated type with a pydantic
TypeAdapter, built for every option on every run, given or not: for `tariffcalc quote` that was
~130 ms of a ~360 ms start (pydantic's model machinery imported, 20 validators built). The
commands here take text (`str`), flags (`bool`), paths and lists of text, and parse the text
themselves with errors that name the option, so there is nothing to convert: an absent option,
text, a flag, or a list of text is handed on as it is (a path after typer's own checks of it);
anything else still goes through typer's conversion. With a typer that works otherwise (another
version), nothing is changed: the values are then typer's own, only slower to get.

The hook replaces a method of typer's private `_TyperParameter` and calls its private
`_coercion.build_runtime_param` and `_param_types.coerce_cli_path`: written against typer 0.29
(0.29.0 to 0.29.2 have the same three), which pyproject.toml pins (`typer>=0.29,<0.30`). A typer
outside TYPER_VERSIONS is not patched even if the names are there, since what they do may have
changed; tests/test_reliability_library.py fails then, asking for this module to be checked
against that typer before the pin moves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["TYPER_VERSIONS", "hand_over_values_as_given"]

# (major, minor) from which, and before which, typer's internals are the ones patched here.
TYPER_VERSIONS = ((0, 29), (0, 30))


def _typer_version() -> tuple[int, ...]:
    import typer

    parts = []
    for part in str(getattr(typer, "__version__", "")).split(".")[:2]:
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def hand_over_values_as_given() -> bool:
    """Let typer's options hand over their values unconverted; False if typer has no such hook,
    or is not a version the hook was written for (TYPER_VERSIONS)."""
    first, before = TYPER_VERSIONS
    if not first <= _typer_version() < before:
        return False
    try:
        from typer._coercion import build_runtime_param
        from typer._param_types import coerce_cli_path
        from typer.core import _TyperParameter
    except ImportError:
        return False
    typer_runtime_param = getattr(_TyperParameter, "get_runtime_param", None)
    if typer_runtime_param is None or getattr(typer_runtime_param, "values_as_given", False):
        return typer_runtime_param is not None

    class ValueAsGiven:
        """One option's value: as given when it is already of the option's type."""

        def __init__(self, descriptor: Any) -> None:
            self.descriptor = descriptor
            self.annotation = descriptor.annotation
            self.typer_conversion: Any = None

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            many = param.multiple or param.nargs == -1
            if value is None:
                return () if many else None  # as typer: an absent option
            kind = self.annotation
            if not many:
                if kind in (str, bool) and type(value) is kind:
                    return value
                if kind is Path and type(value) is str and value != "-":
                    info = self.descriptor.parameter_info
                    if info.path_type is None:
                        # typer's checks (exists, readable, file or directory...) and messages
                        checked = coerce_cli_path(value, info, path_type=str, param=param, ctx=ctx)
                        return Path(str(checked))
            elif kind == list[str] and type(value) in (list, tuple):
                if all(type(item) is str for item in value):
                    return list(value)
            if self.typer_conversion is None:
                self.typer_conversion = build_runtime_param(self.descriptor)
            return self.typer_conversion.coerce(value, param=param, ctx=ctx)

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            self._runtime_param = ValueAsGiven(self.type_descriptor)
        return self._runtime_param

    get_runtime_param.values_as_given = True  # type: ignore[attr-defined]
    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]
    return True
