"""A schedule file read into the validated models of :mod:`~tariffcalc.schedule`: strict YAML
(duplicate keys refused, decimals and dates kept as written), bounded in size, nodes and
aliases before anything is built, and every validation error told in one line with where it
is in the file."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import ScheduleError, quoted
from .rules import MAX_SCHEDULE_BYTES, twin
from .schedule import Schedule

__all__ = ["MAX_REPEATED_NODES", "MAX_SCHEDULE_NODES", "parse_schedule", "schedule_from_data"]


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[valid-type, misc]
    """Safe YAML that rejects duplicate keys and keeps decimals and dates as written.

    PyYAML silently keeps the last of two equal keys; a schedule must never lose a rate that way.
    Floats become Decimal from their text (0.1 is exactly one tenth); dates stay text so that the
    models can say what was expected.
    """


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    # Keys merged in with "<<: *anchor" may be overridden; keys written out may not repeat.
    written = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    merged_count = len(node.value) - written
    mapping: dict[Any, Any] = {}
    seen: set[Any] = set()
    for position, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"unsupported mapping key {quoted(key)}", key_node.start_mark
            )
        if position < merged_count:
            mapping[key] = loader.construct_object(value_node, deep=True)
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"duplicate key {quoted(key)}",
                key_node.start_mark,
            )
        seen.add(key)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:  # .inf, .nan and other YAML floats that are not amounts
        return text


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


# YAML aliases (*name) repeat the node their anchor (&name) names. Nested, a few hundred bytes
# of them stand for billions of nodes ("billion laughs"): the schedule's aliases may repeat at
# most this many nodes in all (the packaged tariffs.yaml repeats about a thousand). A long text
# counts as one node per this many characters.
MAX_REPEATED_NODES = 100_000
_CHARACTERS_PER_NODE = 80
# A schedule's nodes (values, lists and mappings) as written. The size limit alone does not bound
# the memory validation takes: 20 MiB of "1," are 10 million nodes (some 6 GB). A million nodes
# (about 1 GB and 15 s to validate) is over a hundred times the packaged schedule (about 9,000).
MAX_SCHEDULE_NODES = 1_000_000
_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent, yaml.AliasEvent)


def _check_node_count(text: str, source: str) -> None:
    """Refuse a document of more than MAX_SCHEDULE_NODES nodes, counted on the parser's events
    before any node is made (memory stays flat however many there are)."""
    loader = _StrictLoader(text)
    try:
        count = 0
        while loader.check_event():
            event = loader.get_event()
            if type(event) in _NODE_EVENTS:
                count += 1
                if count > MAX_SCHEDULE_NODES:
                    raise ScheduleError(
                        f"{source}:{event.start_mark.line + 1}: a schedule may have at most "
                        f"{MAX_SCHEDULE_NODES:,} YAML nodes (values, lists and mappings); "
                        "this one has more"
                    )
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_aliases(root: yaml.Node, source: str) -> None:
    """Refuse a document whose aliases repeat more than MAX_REPEATED_NODES nodes, or that holds
    itself. Each node is visited once; the sizes of repeated ones are added, not walked."""
    size: dict[int, int] = {}  # expanded size of each node seen; -1 while its children are
    repeats: dict[int, int] = {}  # how often a node is repeated (by aliases), and which it is
    repeated_nodes: dict[int, yaml.Node] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            weight = 1
            if isinstance(node, yaml.ScalarNode):
                weight += len(node.value) // _CHARACTERS_PER_NODE
            size[key] = weight + sum(size[id(child)] for child in _children(node))
            continue
        seen = size.get(key)
        if seen == -1:
            line = node.start_mark.line + 1
            raise ScheduleError(f"{source}:{line}: an alias (*name) inside the node it names")
        if seen is not None:
            repeats[key] = repeats.get(key, 0) + 1
            repeated_nodes[key] = node
            continue
        size[key] = -1
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(_children(node)))
    repeated = sum(count * size[key] for key, count in repeats.items())
    if repeated > MAX_REPEATED_NODES:
        # The anchor whose repetitions weigh most, for the error's line.
        heaviest = max(repeats, key=lambda key: repeats[key] * size[key])
        line = repeated_nodes[heaviest].start_mark.line + 1
        raise ScheduleError(
            f"{source}:{line}: its aliases (*name) repeat {repeated:,} nodes; a schedule may "
            f"repeat at most {MAX_REPEATED_NODES:,} (a long text counts one node per "
            f"{_CHARACTERS_PER_NODE} characters)"
        )


def _line_map(root: yaml.Node) -> dict[tuple[Any, ...], int]:
    """The line of every path through the document, so that model errors can point at a line.

    A node repeated by an alias is walked once: a repetition takes the line of the node it
    repeats, as do the paths inside it (the walk stays as long as the file, not as its
    expansion)."""
    lines: dict[tuple[Any, ...], int] = {}
    walked: set[int] = set()
    stack: list[tuple[tuple[Any, ...], yaml.Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        lines[path] = node.start_mark.line + 1  # the last wins, as a key written after a merge
        if id(node) in walked:
            continue
        walked.add(id(node))
        children: list[tuple[tuple[Any, ...], yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    children.append(((*path, key_node.value), value_node))
        elif isinstance(node, yaml.SequenceNode):
            children = [((*path, index), item) for index, item in enumerate(node.value)]
        stack.extend(reversed(children))
    return lines


def _describe_location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = str(part)
            if not name.isprintable() or len(name) > 60:  # a key with a line break in it...
                name = quoted(name)
            text += f".{name}" if text else name
    return text or "(top level)"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic adds the names of union members and validators ("function-before[...]"); the
    # user only needs the path through their own file.
    return tuple(
        part
        for part in loc
        if not (isinstance(part, str) and ("[" in part or part in {"ProvisionEntry", "str"}))
    )


def _explain(error: Any) -> str:
    kind = error["type"]
    got = error.get("input")
    if kind in {"date_from_datetime_parsing", "date_parsing", "date_type"}:
        return f"expected a date like 2025-04-05, got {quoted(got)}"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling against the schedule format in the README)"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        if pattern.startswith("^99"):
            return f"expected a Chapter 99 heading such as 9903.01.25, got {quoted(got)}"
        if pattern == r"^\d\d$":
            return f'expected two digits in quotes such as "07", got {quoted(got)}'
        return f"expected a lowercase id such as autos-232, got {quoted(got)}"
    message = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
    if kind in {"value_error", "assertion_error"} or isinstance(got, (dict, list)):
        return message
    return f"{message}, got {quoted(got)}"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def parse_schedule(text: str, source: str = "tariffs.yaml") -> Schedule:
    """Validate schedule text; every error names the source, the line and what was expected."""
    if len(text) > MAX_SCHEDULE_BYTES:
        raise ScheduleError(
            f"{source}: {len(text):,} characters; expected a YAML schedule of at most 20 MiB"
        )
    try:
        _check_node_count(text, source)
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            if node is not None:  # before anything walks the document as a tree
                _check_aliases(node, source)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = _one_line(exc.problem or "not valid YAML")
        context = f" ({_one_line(exc.context)})" if exc.context else ""
        raise ScheduleError(f"{where}: {problem}{context}") from None
    except yaml.YAMLError as exc:  # a character YAML refuses: no line, a position
        raise ScheduleError(f"{source}: not valid YAML: {_one_line(exc)}") from None
    except RecursionError:
        raise ScheduleError(f"{source}: nested too deeply to be a schedule") from None
    except ValueError:  # Python reads no integer of more than 4,300 digits
        raise ScheduleError(f"{source}: a number of more than 4,300 digits") from None
    return schedule_from_data(data, source, node)


def schedule_from_data(data: Any, source: str, node: yaml.Node | None = None) -> Schedule:
    """Validate data read from a schedule (``node``, when given, locates errors by line)."""
    if data is None:
        raise ScheduleError(f"{source}: the schedule is empty")
    if not isinstance(data, dict):
        raise ScheduleError(f"{source}: expected a mapping with title, measures, lists, ...")
    try:
        return twin(Schedule.model_validate(data))  # type: ignore[no-any-return]
    except RecursionError:
        raise ScheduleError(f"{source}: nested too deeply to be a schedule") from None
    except ValidationError as exc:
        lines = _line_map(node) if node is not None else {}
        messages = []
        for error in exc.errors():
            loc = _clean_loc(tuple(error["loc"]))
            line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
            where = f"{source}:{line}" if line else source
            messages.append(f"{where}: {_describe_location(loc)}: {_explain(error)}")
        more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
        raise ScheduleError(messages[0] + more) from None
