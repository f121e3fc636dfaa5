"""The independent server's modes: the correct one, and single deviations from the documented behaviour, each with
the checks of the contract suite that must catch it in live mode (test functions, or schemathesis checks).

A deviation is one thing a real server could get wrong; the server (server.py) applies exactly one per variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["CORRECT", "VARIANTS", "Variant", "variant_named"]


@dataclass(frozen=True, slots=True)
class Variant:
    """A mode of the independent server: its name, what it does wrong, and the checks that must catch it."""

    name: str
    area: str
    deviation: str
    caught_by: tuple[str, ...]


CORRECT: Final = Variant("correct", "-", "none: the documented behaviour", ())

_PROBE: Final = "test_rate_limit_holds_for_requests_that_store_nothing"
_BODY_SHAPES: Final = "test_body_shape_is_recorded_as_sent"
_RECORDED: Final = "test_event_is_recorded_as_sent"
_EVERY_TYPE: Final = "test_every_documented_identifier_type_is_accepted"
_WRONG_KEY: Final = "test_wrong_credentials_raise_unauthorized"

VARIANTS: Final = (
    Variant("created-200", "statuses", "answers 200 instead of 201", (_BODY_SHAPES, _RECORDED)),
    Variant(
        "unknown-person-created",
        "statuses",
        "creates an unknown person (201) instead of answering 404",
        (_EVERY_TYPE, "test_unknown_person_raises_not_found_and_creates_nobody"),
    ),
    Variant(
        "text-plain-errors",
        "envelope",
        "answers errors as text/plain, not Infobip's JSON envelope",
        (_EVERY_TYPE, "error_body_is_infobip_envelope"),
    ),
    Variant("throttled-text-plain", "envelope", "answers 429 as text/plain, not Infobip's envelope", (_PROBE,)),
    Variant(
        "event-id-stored-twice",
        "idempotency",
        "records the same eventId again as a new event",
        ("test_resending_an_event_id_returns_the_original_event",),
    ),
    Variant("no-limit", "rate limit", "enforces no rate limit", (_PROBE,)),
    Variant("limit-300", "rate limit", "limits to 300 requests/second instead of 250", (_PROBE,)),
    Variant(
        "limit-counts-valid-only",
        "rate limit",
        "counts only requests that store an event toward the limit",
        (_PROBE,),
    ),
    Variant("no-retry-after", "Retry-After", "answers 429 without Retry-After", (_PROBE,)),
    Variant("retry-after-zero", "Retry-After", "answers 429 with Retry-After: 0", (_PROBE,)),
    Variant(
        "retry-after-not-honoured",
        "Retry-After",
        "still answers 429 after Retry-After has passed (a 5 s penalty)",
        (_PROBE,),
    ),
    Variant("any-credential-accepted", "auth", "accepts any credential, or none", (_WRONG_KEY,)),
    Variant("wrong-credential-403", "auth", "answers a wrong key with 403 instead of 401", (_WRONG_KEY,)),
    Variant(
        "unknown-identifier-type-accepted",
        "validation",
        "looks an identifierType outside the enum up (404) instead of refusing it (400)",
        ("test_identifier_type_outside_the_enum_gets_400",),
    ),
    Variant(
        "whatsapp-400",
        "validation",
        "refuses the documented identifier type WHATSAPP with 400",
        (_EVERY_TYPE,),
    ),
    Variant("properties-null-500", "validation", "answers 500 to properties: null", (_BODY_SHAPES,)),
    Variant(
        "event-id-pattern-ignored",
        "validation",
        "accepts an eventId against its pattern (too long, a space)",
        ("test_body_the_spec_refuses_gets_400",),
    ),
    Variant(
        "foreign-definition-echoed",
        "echo",
        "records another definitionId than the path's",
        (_RECORDED, "created_event_echoes_the_request"),
    ),
    Variant("event-id-missing", "echo", "leaves eventId out of the 201", (_BODY_SHAPES, _RECORDED)),
    Variant("properties-dropped", "echo", "records the event without the properties sent", (_BODY_SHAPES, _RECORDED)),
    Variant("occurred-time-naive", "echo", "answers occurredTime without a time zone", (_BODY_SHAPES, _RECORDED)),
)


def variant_named(name: str) -> Variant:
    """The variant called `name` (the correct mode included); ValueError naming the choices otherwise."""
    for variant in (CORRECT, *VARIANTS):
        if variant.name == name:
            return variant
    raise ValueError(f"no variant {name!r}: choose one of {', '.join(v.name for v in (CORRECT, *VARIANTS))}")
