"""Read-backs through the reference mock's admin API: the proof that an event was stored, and how often."""

from __future__ import annotations

from typing import Any

import httpx


def stored_events(base_url: str, **filters: str) -> list[dict[str, Any]]:
    """Every stored event matching ``filters`` (account, personId, definitionId, identifierType, eventId)."""
    response = httpx.get(f"{base_url}/_mock/events", params=filters, timeout=30)
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def set_fault(base_url: str, fault: str, *, probability: float | None = None, next: int | None = None) -> None:
    """Inject a fault for later requests (``DELETE /_mock/faults`` clears it: `clear_faults`)."""
    body: dict[str, Any] = {"fault": fault}
    if probability is not None:
        body["probability"] = probability
    if next is not None:
        body["next"] = next
    httpx.put(f"{base_url}/_mock/faults", json=body, timeout=30).raise_for_status()


def clear_faults(base_url: str) -> None:
    httpx.delete(f"{base_url}/_mock/faults", timeout=30).raise_for_status()
