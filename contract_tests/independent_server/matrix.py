"""The mutant matrix: the contract suite in live mode (``CONTRACT_TARGET=live``) against the independent server, once
in its correct mode and once per variant, in parallel, each run bounded in time.

Each run starts the server in a worker process of its own (so that the servers of parallel runs do not share a
GIL), runs ``pytest contract_tests -m live_safe`` (every test that sends to the target; the others give the same
result whatever the target) in a subprocess against it with the INFOBIP_* variables of a user's live run, and reads
what failed from the run's JSON summary (conftest.py writes it beside the JUnit XML). The live guard
applies as on a real account: only the named person (or made-up ones), never createPerson, at most 50 events.

``make mutants`` (``python -m contract_tests.independent_server.matrix``) prints the table; ``--variant NAME``
(repeatable) runs only those. contract_tests/test_independent_server.py runs it in ``make test``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..nested import nested_env
from ..spec import REPO_ROOT
from .server import IndependentServer, serve
from .variants import CORRECT, VARIANTS, Variant, variant_named

__all__ = [
    "API_KEY",
    "NAMED_PERSON",
    "RUN_TIMEOUT_SECONDS",
    "Run",
    "caught",
    "new_service",
    "render_table",
    "run_matrix",
    "run_variant",
]

API_KEY: Final = "independent-key"
#: (identifierType, personId) of the one person the server has: INFOBIP_PERSON_ID of the live runs.
NAMED_PERSON: Final = ("EMAIL", "jane.doe@example.com")
#: One live run may take this long at most (it takes about 15 s on a quiet machine).
RUN_TIMEOUT_SECONDS: Final = 240
#: Runs in parallel: one per core (two on the team's machine).
WORKERS: Final = max(1, min(2, os.cpu_count() or 1))
#: Replays a run: the schemathesis seed of every live run of the matrix.
SEED: Final = "20240517"
_OUTPUT_TAIL: Final = 3000


def new_service(variant: Variant) -> IndependentServer:
    """A fresh independent server in mode `variant`, knowing the named person only."""
    return IndependentServer(API_KEY, {NAMED_PERSON}, variant)


@dataclass(frozen=True, slots=True)
class Run:
    """One live run of the suite against one variant."""

    variant: str
    returncode: int
    seconds: float
    failed_tests: tuple[str, ...]
    failed_checks: tuple[str, ...]
    summary: dict[str, Any]
    #: (identifierType, personId) of every event the server stored, and every person it created.
    stored: tuple[tuple[str, str], ...]
    created_persons: tuple[tuple[str, str], ...]
    output_tail: str

    @property
    def failures(self) -> tuple[str, ...]:
        """Every check that failed: test functions and schemathesis checks."""
        return (*self.failed_tests, *self.failed_checks)


def _live_env(base_url: str, pycache: str) -> dict[str, str]:
    identifier_type, person_id = NAMED_PERSON
    return nested_env(
        pycache,
        CONTRACT_TARGET="live",
        CONTRACT_SEED=SEED,
        INFOBIP_BASE_URL=base_url,
        INFOBIP_API_KEY=API_KEY,
        INFOBIP_PERSON_ID=person_id,
        INFOBIP_IDENTIFIER_TYPE=identifier_type,
        INFOBIP_DEFINITION_ID=new_service(CORRECT).definition_id,
    )


def run_variant(name: str, pycache: str) -> Run:
    """Run the contract suite's live tests (``-m live_safe``: the others do not depend on the target) in live mode
    against the independent server in mode `name`, served from this process. `pycache` is the byte-code cache."""
    service = new_service(variant_named(name))
    started = time.monotonic()
    with serve(service) as base_url, tempfile.TemporaryDirectory(prefix=f"mutant-{name}-") as tmp:
        junit = Path(tmp) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "contract_tests", "-m", "live_safe", "-q", "-p", "no:cacheprovider"]
        try:
            done = subprocess.run(
                [*command, f"--junitxml={junit}"],
                cwd=REPO_ROOT,
                env=_live_env(base_url, pycache),
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_SECONDS,
                check=False,
            )
            returncode, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as expired:
            returncode, output = -1, f"timed out after {RUN_TIMEOUT_SECONDS} s\n{expired.stdout!r}"
        summary_path = junit.with_suffix(".summary.json")
        summary: dict[str, Any] = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return Run(
        variant=name,
        returncode=returncode,
        seconds=time.monotonic() - started,
        failed_tests=tuple(summary.get("failed_tests", [])),
        failed_checks=tuple(summary.get("failed_checks", [])),
        summary=summary,
        stored=tuple((event.identifier_type, event.person_id) for event in service.events),
        created_persons=tuple(service.created_persons),
        output_tail=str(output)[-_OUTPUT_TAIL:],
    )


def run_matrix(names: Iterable[str], *, workers: int = WORKERS) -> list[Run]:
    """`run_variant` for each of `names`, `workers` at a time, each in a fresh worker process (spawned, not forked:
    the caller may be a pytest process with threads)."""
    names = list(names)
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="mutants-pycache-") as pycache,
        ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool,
    ):
        return list(pool.map(run_variant, names, [pycache] * len(names)))


def caught(run: Run, variant: Variant) -> bool:
    """Whether the run failed, and every check the variant names among the failures."""
    return run.returncode != 0 and set(variant.caught_by) <= set(run.failures)


def render_table(runs: Sequence[Run]) -> list[str]:
    """A Markdown table: variant, area, deviation, result, the checks that failed, and the run's time."""
    lines = [
        "| variant | area | deviation | result | failed checks | time |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        variant = variant_named(run.variant)
        if variant is CORRECT:
            result = "passes" if run.returncode == 0 else f"FAILS (exit {run.returncode})"
        else:
            result = "caught" if caught(run, variant) else "MISSED"
        failures = ", ".join(f"`{name}`" for name in run.failures) or "-"
        lines.append(
            f"| {variant.name} | {variant.area} | {variant.deviation} | {result} | {failures} | {run.seconds:.0f} s |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract_tests.independent_server.matrix", description=__doc__)
    parser.add_argument("--variant", action="append", help="run only this variant (repeatable); default: all")
    parser.add_argument("--workers", type=int, default=WORKERS)
    arguments = parser.parse_args(argv)
    names = arguments.variant or [variant.name for variant in (CORRECT, *VARIANTS)]
    started = time.monotonic()
    runs = run_matrix(names, workers=arguments.workers)
    for line in render_table(runs):
        print(line)
    deviations = [run for run in runs if run.variant != CORRECT.name]
    caught_count = sum(caught(run, variant_named(run.variant)) for run in deviations)
    correct_ok = all(run.returncode == 0 for run in runs if run.variant == CORRECT.name)
    print(
        f"\n{caught_count} of {len(deviations)} variants caught in live mode; correct server "
        f"{'passes' if correct_ok else 'FAILS'}; {time.monotonic() - started:.0f} s with {arguments.workers} workers"
    )
    return 0 if correct_ok and caught_count == len(deviations) else 1


if __name__ == "__main__":
    sys.exit(main())
