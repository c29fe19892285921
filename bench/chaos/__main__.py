"""``python -m bench.chaos`` (``make chaos``): the chaos suite; exits 1 if any run is not exact.

Runs, in order: one at a time (they stop the services every run shares), the broker stopped, the broker killed
with SIGKILL and the registry restarted mid-run; then, in ``--parallel`` workers, the SIGKILL runs of first syncs
(``--runs``, default ``CHAOS_RUNS`` or 100), the SIGKILL runs of incremental syncs and every scripted Marketo
fault (``--fault NAME`` for some only, ``--fault-repeat N`` times each). Run ``i`` of the kill scenarios uses
seed ``--first-seed + i``; its world is seed-determined too, so ``--runs 1 --first-seed S --incremental 0
--no-faults --no-services`` replays it. A run not exact keeps its sync logs, the sandbox's request log and its
topics (on the harness's broker, whose data directory stays under ``--work``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from bench.chaos.faults import FAULTS
from bench.chaos.scenarios import WORLD_SEEDS, Harness, RunResult
from bench.chaos.services import Services
from bench.chaos.table import details, render
from bench.chaos.world import WorldConfig

FIRST_SYNC = "SIGKILL, first sync"
INCREMENTAL = "SIGKILL, incremental sync"
INCREMENTAL_DAYS = (3.0,)
SERVICE_CASES = ("broker stopped", "broker kill -9", "registry restarted")


def world_for(seed: int, advance: tuple[float, ...] = ()) -> WorldConfig:
    return WorldConfig(seed=WORLD_SEEDS[seed % len(WORLD_SEEDS)], advance_days=advance)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("CHAOS_RUNS", "100")))
    parser.add_argument("--incremental", type=int, default=10, help="kill runs of an incremental sync")
    parser.add_argument("--parallel", type=int, default=int(os.environ.get("CHAOS_PARALLEL", "2")))
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--no-faults", dest="faults", action="store_false")
    parser.add_argument("--fault", action="append", default=[], help="only this fault case (repeatable)")
    parser.add_argument("--fault-repeat", type=int, default=1, help="runs of each fault case")
    parser.add_argument("--no-services", dest="services", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep each run's topics and work directory")
    parser.add_argument("--work", type=Path, default=None, help="where the services and runs keep their files")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="marketo-stream-chaos-"))
    started = time.monotonic()
    print(f"chaos: starting a broker and a registry of its own under {work}", flush=True)
    services = Services.start(work / "services")
    harness = Harness(services, work / "runs", keep=args.keep)
    jobs: list[Callable[[], RunResult]] = []
    for i in range(args.runs):
        seed = args.first_seed + i
        jobs.append(lambda seed=seed: harness.kill_run(world_for(seed), seed, FIRST_SYNC))
    for i in range(args.incremental):
        seed = args.first_seed + args.runs + i
        jobs.append(lambda seed=seed: harness.kill_run(world_for(seed, INCREMENTAL_DAYS), seed, INCREMENTAL))
    if args.faults:
        unknown = set(args.fault) - {f.name for f in FAULTS}
        if unknown:
            raise SystemExit(f"no fault case named {sorted(unknown)}; the cases: {[f.name for f in FAULTS]}")
        for i, fault in enumerate(FAULTS):
            if args.fault and fault.name not in args.fault:
                continue
            for _ in range(args.fault_repeat):
                jobs.append(lambda fault=fault, i=i: harness.fault_run(world_for(i), fault, i))
    total = len(jobs) + (len(SERVICE_CASES) if args.services else 0)
    results: list[RunResult] = []
    try:
        if args.services:  # first, alone: they stop what every run uses, and the registry reloads little
            for i, what in enumerate(SERVICE_CASES):
                result = harness.service_run(world_for(i), args.first_seed + 10_000 + i, what)
                results.append(result)
                _progress(result, len(results), total, started)
        with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
            for future in as_completed([pool.submit(job) for job in jobs]):
                result = future.result()
                results.append(result)
                _progress(result, len(results), total, started)
    finally:
        services.close()
    order = [FIRST_SYNC, INCREMENTAL] + [f"fault: {f.name}" for f in FAULTS] + list(SERVICE_CASES)
    results.sort(key=lambda r: (order.index(r.scenario) if r.scenario in order else len(order), r.seed))
    minutes = (time.monotonic() - started) / 60
    print(f"\nchaos: {len(results)} runs in {minutes:.1f} min, {args.parallel} in parallel\n")
    print(render(results))
    print(details(results))
    exact = all(r.exact for r in results)
    if exact and args.work is None and not args.keep:
        shutil.rmtree(work, ignore_errors=True)  # nothing to diagnose: the services' data and the runs' files go
    else:
        print(f"\nchaos: the services' data and the kept runs are under {work}")
    return 0 if exact else 1


def _progress(result: RunResult, done: int, total: int, started: float) -> None:
    verdict = "exact" if result.exact else "NOT EXACT"
    print(
        f"[{(time.monotonic() - started) / 60:5.1f} min] {done}/{total} {result.scenario} ({result.world}, "
        f"seed {result.seed}): {' -> '.join(result.attempts)}: {verdict} ({result.took:.0f}s)",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
