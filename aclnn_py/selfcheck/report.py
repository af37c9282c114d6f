"""The self-check's output: progress while it runs, the table, the JSON document."""
from __future__ import annotations

import json
import sys
from itertools import groupby
from typing import Any, TextIO

from .framework import FAIL, PASS, SKIP, Mode, Outcome

__all__ = ["Progress", "document", "table"]


def ranks_text(n: int) -> str:
    return f"{n} rank{'s' if n != 1 else ''}"


def _errors(outcome: Outcome) -> tuple[str, str]:
    """The max and mean relative error columns, each against its limit."""
    if outcome.worst is None:
        return "", ""
    r = outcome.worst.result
    if r.threshold == 0:
        return ("exact", "exact") if r.passed else (f"{r.mismatches} of {r.size} differ", "exact")
    return f"{r.mare:.2e} / {10 * r.threshold:.2e}", f"{r.mere:.2e} / {r.threshold:.2e}"


class Progress:
    """Shows what runs: one line rewritten in place on a terminal (failures stay on
    screen), one line per finished mode otherwise (logs, CI)."""

    def __init__(self, total: int, out: TextIO = sys.stdout, tty: bool | None = None) -> None:
        self.total, self.out, self.done_count = total, out, 0
        self.tty = out.isatty() if tty is None else tty

    def _line(self, outcome: Outcome) -> str:
        worst, _ = _errors(outcome)
        tail = outcome.detail if outcome.status != PASS else worst
        return (f"[{self.done_count:>{len(str(self.total))}}/{self.total}] {outcome.status:<5} {outcome.mode.name} "
                f"({ranks_text(outcome.mode.ranks)}) {outcome.seconds:.2f} s  {tail}").rstrip()

    def start(self, mode: Mode) -> None:
        if self.tty:
            self.out.write(f"\r\x1b[K[{self.done_count + 1}/{self.total}] {mode.name} ({ranks_text(mode.ranks)}) ...")
            self.out.flush()

    def done(self, outcome: Outcome) -> None:
        self.done_count += 1
        if not self.tty:
            print(self._line(outcome), file=self.out, flush=True)
        elif outcome.failed:
            self.out.write(f"\r\x1b[K{self._line(outcome)}\n")
            self.out.flush()

    def finish(self) -> None:
        if self.tty:
            self.out.write("\r\x1b[K")
            self.out.flush()


def _rows(outcomes: list[Outcome]) -> list[tuple[str, ...]]:
    """Table rows; skips of one mode with one reason on several rank counts share a row."""
    rows = []
    for (name, status, detail), group in groupby(outcomes, key=lambda o: (o.mode.name, o.status, o.detail)):
        group = list(group)
        if status == SKIP:
            rows.append((name, ",".join(str(o.mode.ranks) for o in group), SKIP, "", "", "", detail))
            continue
        for o in group:
            worst, mean = _errors(o)
            note = o.detail if o.failed else ""
            rows.append((name, str(o.mode.ranks), status, worst, mean, f"{o.seconds:.2f} s", note))
    return rows


def table(outcomes: list[Outcome], note_width: int = 100) -> str:
    """The result table (mode, ranks, status, max and mean relative error against their limits, time)."""
    header = ("mode", "ranks", "status", "max rel err / limit", "mean rel err / limit", "time", "note")
    rows = [header] + [row[:-1] + (_clip(row[-1], note_width),) for row in _rows(outcomes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    right = {1, 5}
    lines = []
    for row in rows:
        cells = [row[i].rjust(w) if i in right else row[i].ljust(w) for i, w in enumerate(widths)]
        lines.append("  ".join(cells + [row[-1]]).rstrip())
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def document(outcomes: list[Outcome], environment: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The JSON document: the environment, one entry per mode and rank count, a summary."""
    entries = []
    for o in outcomes:
        entry: dict[str, Any] = {"mode": o.mode.name, "ranks": o.mode.ranks, "status": o.status,
                                 "seconds": round(o.seconds, 4), "detail": o.detail}
        if o.worst is not None:
            r = o.worst.result
            entry.update(output=o.worst.what, dtype=r.name, exact=r.threshold == 0,
                         max_rel_error=r.mare, max_rel_limit=10 * r.threshold, mean_rel_error=r.mere,
                         mean_rel_limit=r.threshold, mismatches=r.mismatches, elements=r.size)
        entries.append(entry)
    counts = {status.lower(): sum(o.status == status for o in outcomes) for status in (PASS, FAIL, "ERROR", SKIP)}
    return {**environment, "seconds": round(seconds, 3), "summary": counts, "results": entries,
            "passed": not any(o.status in (FAIL, "ERROR") for o in outcomes)}


def dump(document_: dict[str, Any], path: str) -> None:
    text = json.dumps(document_, indent=2)
    if path == "-":
        print(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")
