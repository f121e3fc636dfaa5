"""The facades a drainer sends through: several small connection pools for one credential (see ``Drainer``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import httpx

from .. import AsyncPeopleEvents, FleetLimiter
from ..auth import Auth

SENDS_PER_CLIENT = 8
"""Sends (and kept-alive connections) per facade: httpcore's pool cost grows with its size (see ``Drainer``)."""


def drain_facades(
    base_url: str,
    *,
    concurrency: int,
    api_key: str | None = None,
    auth: Auth | None = None,
    rate_limit: int | None = 250,
    limiter: FleetLimiter | None = None,
    max_retries: int | None = None,
    http_client_args: Mapping[str, Any] | None = None,
) -> list[AsyncPeopleEvents]:
    """One facade per ``SENDS_PER_CLIENT`` sends. Every facade of one credential shares the process's pacing budget
    (and the fleet's, with ``limiter``). Each pool keeps all its connections alive, so no send waits for a new
    connection. Raises ValueError for bad options, as the facade does."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    size = min(concurrency, SENDS_PER_CLIENT)
    args = {"limits": httpx.Limits(max_connections=size, max_keepalive_connections=size), **(http_client_args or {})}
    retries: dict[str, Any] = {} if max_retries is None else {"max_retries": max_retries}
    return [
        AsyncPeopleEvents(
            base_url, api_key, auth=auth, rate_limit=rate_limit, limiter=limiter, http_client_args=args, **retries
        )
        for _ in range(math.ceil(concurrency / size))
    ]
