"""The rate-limit probe (probe.py) on this run's target, live included: the documented limit holds, by requests that
cannot store anything (a person that cannot exist, never createPerson).

On by default; ``CONTRACT_RATE_LIMIT_PROBE=off`` switches it off. Cost: at most 2 x limit + 50 requests (550 at the
documented 250/s) in a burst of at most 2.5 s, then Retry-After and one more second; the account is over its limit
for about a second, so its other traffic sees 429s meanwhile.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Final

import pytest

from .burst import Answer, open_connection
from .probe import ENV_PROBE, Send, probe_problems, run_probe
from .report import REPORT
from .spec import event_path, throttling_limit
from .targets import Target, TargetKind

pytestmark = pytest.mark.live_safe

#: Requests in flight at once: enough to pass 250/s over a link with 100 ms round trips.
CONCURRENCY: Final = 32
#: On live, the probe needs this many free budget slots (each request in flight holds one until its 404).
MIN_LIVE_SLOTS: Final = 8
_OFF: Final = frozenset({"off", "0", "false", "no"})


async def test_rate_limit_holds_for_requests_that_store_nothing(contract_target: Target) -> None:
    """Over the limit a 429 comes, in Infobip's envelope with a valid Retry-After; no second holds more than the
    limit's answers other than 429; after Retry-After the next request is not a 429; nothing is stored."""
    if os.environ.get(ENV_PROBE, "on").strip().lower() in _OFF:
        pytest.skip(f"{ENV_PROBE}=off")
    concurrency = CONCURRENCY
    if contract_target.guard is not None:
        concurrency = min(concurrency, contract_target.guard.remaining)
        if concurrency < MIN_LIVE_SLOTS:
            pytest.skip(f"the live event budget has fewer than {MIN_LIVE_SLOTS} slots for the probe's requests")
    named = contract_target.named
    person_id = contract_target.unknown_person(named.identifier_type)
    path, params = event_path(person_id, named.definition_id), {"identifierType": named.identifier_type}
    authorization = {"Authorization": f"App {contract_target.api_key}"}

    @contextlib.asynccontextmanager
    async def open_sender() -> AsyncIterator[Send]:
        if contract_target.kind is TargetKind.INPROCESS:  # no socket: the app, through httpx's ASGI transport
            async with contract_target.raw_client() as client:

                async def send_inprocess() -> Answer:
                    response = await client.post(path, params=params)
                    return Answer(response.status_code, dict(response.headers), response.content)

                yield send_inprocess
            return
        async with open_connection(contract_target.base_url, authorization, contract_target.guard) as connection:

            async def send() -> Answer:
                return await connection.post(path, params)

            yield send

    outcome = await run_probe(open_sender, limit=throttling_limit(), concurrency=concurrency)

    throttled = outcome.throttled
    REPORT.probe = (
        f"{outcome.sent} requests, {len(throttled)} answered 429, busiest second "
        f"{outcome.busiest_second(admitted_only=True)} other answers; after Retry-After "
        f"({outcome.waited if outcome.waited is not None else '-'} s): "
        f"{outcome.after_wait.status if outcome.after_wait else '-'}"
    )
    problems = probe_problems(outcome, expected=frozenset({404}))
    assert not problems, "rate-limit probe: " + "; ".join(problems)
    if contract_target.kind is not TargetKind.LIVE:
        assert await contract_target.stored_events(personId=person_id) == []
