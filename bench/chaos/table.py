"""The figures a chaos run prints: one row per scenario, then every run that was not exact, with its seed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from bench.chaos.compare import EXCLUDED_FIELDS, EXCLUDED_HEADERS, EXCLUDED_TABLES
from bench.chaos.scenarios import RunResult


def _mismatches(results: Iterable[RunResult]) -> str:
    counted: Counter[str] = Counter()
    for r in results:
        for (table, what), n in (r.against_reference.mismatches + r.against_truth.mismatches).items():
            counted[f"{table}.{what}"] += n
        if r.problems:
            counted["[status or error]"] += len(r.problems)
    return ", ".join(f"{name} x{n}" for name, n in counted.most_common()) or "none"


def render(results: list[RunResult]) -> str:
    scenarios: dict[str, list[RunResult]] = {}
    for r in results:
        scenarios.setdefault(r.scenario, []).append(r)
    rows = [
        (name, str(len(rs)), str(sum(r.kills for r in rs)), str(sum(r.exact for r in rs)), _mismatches(rs))
        for name, rs in scenarios.items()
    ]
    rows.append(
        (
            "total",
            str(len(results)),
            str(sum(r.kills for r in results)),
            str(sum(r.exact for r in results)),
            _mismatches(results),
        )
    )
    head = ("scenario", "runs", "kills", "exact", "mismatches by table and field")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(4)]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 5) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    del widths
    lines.append("")
    lines.append("Not compared, by design: fields " + ", ".join(f"`{f}`" for f in EXCLUDED_FIELDS)
                 + "; headers " + ", ".join(f"`{h}`" for h in EXCLUDED_HEADERS)
                 + "; tables " + ", ".join(f"`{t}`" for t in EXCLUDED_TABLES) + ".")  # fmt: skip
    return "\n".join(lines)


def details(results: list[RunResult]) -> str:
    """Every run that was not exact: scenario, world, seed, what its syncs did, the first examples."""
    out = []
    for r in results:
        if r.exact:
            continue
        out.append(f"\n{r.scenario} ({r.world}, seed {r.seed}): {' -> '.join(r.attempts)}")
        if r.work is not None:
            out.append(
                f"  kept: {r.work} (sync logs, the sandbox's request log; its topics stay on the harness's broker)"
            )
        out += [f"  problem: {p}" for p in r.problems]
        out += [f"  vs uninterrupted: {e}" for e in r.against_reference.examples]
        out += [f"  vs truth: {e}" for e in r.against_truth.examples]
    return "\n".join(out)
