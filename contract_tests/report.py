"""The contract summary printed at the end of a run (conftest's pytest_terminal_summary) and written beside
the JUnit XML: the target, cases run per check, statuses seen, the live run's bounds, and every failure
with its curl reproduction."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import pytest
from schemathesis.checks import CheckResult
from schemathesis.engine import Status

from .live import LiveGuard

__all__ = ["REPORT", "ContractReport", "curl_for"]

#: Headers any HTTP client adds by itself: left out of curl reproductions.
_TRANSPORT_HEADERS: Final = frozenset(
    {"accept", "accept-encoding", "connection", "content-length", "host", "user-agent"}
)
#: What pytest and exception-group tracebacks put before a line of the message.
_MARGIN: Final = re.compile(r"^[\s|+E>]*")
_TITLE: Final = re.compile(r"^- ST\d+ ")
#: Schemathesis's host for in-process calls, and where `make mock` serves the same mock for replaying them.
_INPROCESS_HOST: Final = "http://testserver/"
_MAKE_MOCK_URL: Final = "http://127.0.0.1:8080/"
_MAX_FAILURE_LINES: Final = 3


def curl_for(method: str, url: str, headers: Iterable[tuple[str, str]] = (), body: bytes | None = None) -> str:
    """A curl command that sends this request (for failure messages of tests that send their own)."""
    parts = [f"curl -X {method}"]
    parts += [f"-H '{name}: {value}'" for name, value in headers if name.lower() not in _TRANSPORT_HEADERS]
    if body:
        parts.append("-d '" + body.decode("utf-8", "replace").replace("'", "'\\''") + "'")
    parts.append(f"'{url}'")
    return " ".join(parts)


@dataclass
class ContractReport:
    """What the schemathesis run saw; the rest of the summary comes from pytest's own reports."""

    target: str = ""
    statuses: Counter[int] = field(default_factory=Counter)
    checks: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    not_sent: int = 0
    repeated_shapes: int = 0
    probe: str = ""
    seed: int | None = None
    guard: LiveGuard | None = None

    @property
    def responses(self) -> int:
        """Responses the schemathesis run received (its probes and replays not counted)."""
        return sum(self.statuses.values())

    def share(self, status: int) -> float:
        """The share of responses with `status`."""
        return self.statuses[status] / self.responses if self.responses else 0.0

    def record_results(self, results: Iterable[CheckResult]) -> None:
        """Count one case's check outcomes (schemathesis's after_validate hook)."""
        for result in results:
            self.checks[result.name]["failed" if result.status is Status.FAILURE else "passed"] += 1

    def render(self, passed: int, failed: list[pytest.TestReport], skipped: list[pytest.TestReport]) -> list[str]:
        """The summary's lines."""
        lines = [f"target: {self.target or '(no target used)'}"]
        if self.responses:
            shares = "  ".join(
                f"{status}: {count} ({count / self.responses:.0%})" for status, count in sorted(self.statuses.items())
            )
            seed = "derandomized" if self.seed is None else f"seed {self.seed} (replay: CONTRACT_SEED={self.seed})"
            lines += [
                f"schemathesis: {self.responses} cases, {seed}",
                f"  responses by status: {shares}",
                f"  {'check':<45} {'passed':>7} {'failed':>7}",
            ]
            lines += [
                f"  {name:<45} {counts['passed']:>7} {counts['failed']:>7}"
                for name, counts in sorted(self.checks.items())
            ]
        if self.repeated_shapes:
            lines.append(f"  {self.repeated_shapes} positive cases not sent: they would store a shape already stored")
        if self.not_sent:
            lines.append(f"  {self.not_sent} cases not sent: the live event budget was used up")
        if self.probe:
            lines.append(f"rate-limit probe: {self.probe}")
        if self.guard is not None:
            guard = self.guard
            statuses = ", ".join(f"{status}: {count}" for status, count in sorted(guard.statuses.items()))
            lines.append(
                f"live bounds: {guard.may_have_stored}/{guard.settings.max_events} events possibly stored, "
                f"{guard.sent} requests at most {guard.settings.requests_per_second:.0f}/s, "
                f"{guard.refused} refused by the budget; statuses: {statuses or 'none'}"
            )
        lines.append(f"contract tests: {passed} passed, {len(failed)} failed, {len(skipped)} skipped")
        reasons = Counter(_skip_reason(report) for report in skipped)
        lines += [f"  skipped {count}x: {reason}" for reason, count in reasons.most_common()]
        if failed and any(_INPROCESS_HOST in report.longreprtext for report in failed):
            lines.append(f"(in-process failures replay against `make mock`, which serves the mock on {_MAKE_MOCK_URL})")
        for report in failed:
            lines.append(f"FAILED {report.nodeid}")
            lines += [f"    {line}" for line in _failure_lines(report)]
        return lines

    def as_json(self, failed: list[pytest.TestReport], skipped: list[pytest.TestReport]) -> dict[str, object]:
        """The summary's facts for tools: failed tests (function names) and checks, skips by reason, live bounds."""
        guard = self.guard
        return {
            "target": self.target,
            "failed_tests": sorted({report.nodeid.split("::")[-1].split("[")[0] for report in failed}),
            "failed_checks": sorted(name for name, counts in self.checks.items() if counts["failed"]),
            "skipped": dict(Counter(_skip_reason(report) for report in skipped)),
            "cases_not_sent_for_budget": self.not_sent,
            "cases_not_sent_as_repeated_shapes": self.repeated_shapes,
            "statuses": {str(status): count for status, count in sorted(self.statuses.items())},
            "probe": self.probe,
            "live": None
            if guard is None
            else {
                "max_events": guard.settings.max_events,
                "may_have_stored": guard.may_have_stored,
                "requests": guard.sent,
                "refused_by_budget": guard.refused,
            },
        }


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure_lines(report: pytest.TestReport) -> list[str]:
    """Schemathesis's failure titles (or the assertion message) and every curl reproduction of a failed test."""
    text = [_MARGIN.sub("", line) for line in report.longreprtext.splitlines()]
    titles = [line.removeprefix("- ") for line in text if _TITLE.match(line)]
    if not titles:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = str(getattr(crash, "message", "")) or (text[-1] if text else "")
        titles = [line.split(": curl -X ")[0] for line in message.splitlines() if line.strip()][:_MAX_FAILURE_LINES]
    curls = [
        line[line.index("curl -X ") :].replace(_INPROCESS_HOST, _MAKE_MOCK_URL) for line in text if "curl -X " in line
    ]
    return [*dict.fromkeys(titles), *(f"reproduce: {curl}" for curl in dict.fromkeys(curls))]


#: The one report of this pytest session.
REPORT: Final = ContractReport()
