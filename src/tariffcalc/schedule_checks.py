"""Checks of a schedule as a whole that its models run when validated: stacking rules that
displace each other in a circle (the duty would depend on their order), and what an unknown
name may have meant."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Protocol


class StackingRule(Protocol):
    """A stacking rule as these checks read it (schedule.Displacement)."""

    @property
    def measures(self) -> tuple[str, ...]: ...

    @property
    def displaces(self) -> tuple[str, ...]: ...

    @property
    def start(self) -> date | None: ...

    @property
    def end(self) -> date | None: ...

    def covers(self, on: date) -> bool: ...


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """What an error about an unknown name adds: the names it may have meant, or all of them
    when they are few (a schedule has dozens: the message stays one readable line)."""
    import difflib

    known = sorted(names)
    close = difflib.get_close_matches(name, known, n=3)
    if close:
        return f" (did you mean {', '.join(map(repr, close))}?)"
    if len(known) <= 8:
        return f"; known: {', '.join(known) or 'none'}"
    return f"; {len(known)} known, such as {', '.join(known[:3])}"


def stacking_cycle(rules: Sequence[StackingRule]) -> str | None:
    """Why these stacking rules cannot be applied in any order, if they cannot.

    The engine applies the rules in the order written: a measure that displaces itself, or
    measures that displace each other (a displaces b, b displaces a, perhaps through others)
    on the same date would make the duty depend on that order.
    """
    for number, rule in enumerate(rules):
        both = sorted(set(rule.measures) & set(rule.displaces))
        if both:
            return (
                f"rule {number} has {both[0]!r} displace itself (it is in measures and displaces)"
            )
    # The days on which the rules in force change; between two of them the graph is the same.
    days = {date.min}
    for rule in rules:
        if rule.start is not None:
            days.add(rule.start)
        if rule.end is not None and rule.end < date.max:
            days.add(rule.end + timedelta(days=1))
    for day in sorted(days):
        graph: dict[str, list[tuple[str, int]]] = {}
        for number, rule in enumerate(rules):
            if rule.covers(day):
                for measure in rule.measures:
                    graph.setdefault(measure, []).extend((d, number) for d in rule.displaces)
        cycle = _cycle_in(graph)
        if cycle is not None:
            numbers = sorted({number for _, _, number in cycle})
            starts = [start for n in numbers if (start := rules[n].start) is not None]
            when = f"from {max(starts)}" if starts else "at every date"
            steps = ", ".join(f"{a} displaces {b} (rule {n})" for a, b, n in cycle)
            names = ", ".join(map(str, numbers[:-1])) + " and " * (len(numbers) > 1)
            names += str(numbers[-1])
            return (
                f"rule{'s' if len(numbers) > 1 else ''} {names} displace in a circle, in force "
                f"together {when}: {steps}; the duty would depend on the order of the rules"
            )
    return None


def _cycle_in(graph: dict[str, list[tuple[str, int]]]) -> list[tuple[str, str, int]] | None:
    """A circle of (measure, displaced measure, rule) steps in the graph, if there is one."""
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        # Depth first, without recursion: the path from start, and the step into each of its
        # measures (steps[k] leads from path[k] to path[k + 1]).
        path = [start]
        position = {start: 0}
        pending = [iter(graph[start])]
        steps: list[tuple[str, str, int]] = []
        while pending:
            node = path[-1]
            for target, number in pending[-1]:
                if target in position:
                    return steps[position[target] :] + [(node, target, number)]
                if target not in done:
                    position[target] = len(path)
                    path.append(target)
                    steps.append((node, target, number))
                    pending.append(iter(graph.get(target, ())))
                    break
            else:
                done.add(node)
                del position[node]
                path.pop()
                pending.pop()
                if steps:
                    steps.pop()
    return None
