"""Authentication (401) and authorisation (403) of Send Event requests against the fixture credentials.

Four schemes, as Infobip's spec declares them: ``App <key>``, ``Basic base64(user:password)``,
``IBSSO <token>`` and ``Bearer <token>`` (OAuth 2.0). Schemes are matched case-insensitively.
Secrets are compared in constant time (`hmac.compare_digest` against every credential of the
scheme, without stopping at a match), and never logged or shown in a repr.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from people_events_mock.constants import SEND_EVENT_SCOPES
from people_events_mock.fixtures import AccountFixture

__all__ = ["Authenticator", "Principal"]

_SCHEMES = {"app": "App", "basic": "Basic", "ibsso": "IBSSO", "bearer": "Bearer"}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who sent a request: the account and the credential's scopes (never the secret)."""

    account: str
    scheme: str
    scopes: frozenset[str]

    @property
    def may_send_events(self) -> bool:
        """Whether the credential has a scope Send Event accepts (people:manage, people:use or web:sdk)."""
        return not self.scopes.isdisjoint(SEND_EVENT_SCOPES)


@dataclass(frozen=True, slots=True)
class _Entry:
    secret: bytes
    username: bytes
    principal: Principal

    def __repr__(self) -> str:
        return f"_Entry(principal={self.principal!r})"


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class Authenticator:
    """Resolves an Authorization header to a `Principal`, or None (401)."""

    def __init__(self, accounts: Iterable[AccountFixture]) -> None:
        self._entries: dict[str, list[_Entry]] = {scheme: [] for scheme in _SCHEMES.values()}
        for account in accounts:
            for credential in account.credentials:
                principal = Principal(account=account.name, scheme=credential.type, scopes=credential.scopes)
                entry = _Entry(
                    secret=_bytes(credential.secret), username=_bytes(credential.username or ""), principal=principal
                )
                self._entries[credential.type].append(entry)

    def authenticate(self, authorization: Sequence[str]) -> Principal | None:
        """The principal of the request's Authorization header values; None unless exactly one valid value."""
        if len(authorization) != 1:
            return None
        scheme, _, value = authorization[0].strip().partition(" ")
        canonical = _SCHEMES.get(scheme.lower())
        value = value.strip()
        if canonical is None or not value:
            return None
        if canonical == "Basic":
            return self._basic(value)
        return self._match(canonical, b"", _bytes(value))

    def _basic(self, value: str) -> Principal | None:
        try:
            decoded = base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return None
        username, separator, password = decoded.partition(b":")
        if not separator:
            return None
        return self._match("Basic", username, password)

    def _match(self, scheme: str, username: bytes, secret: bytes) -> Principal | None:
        found: Principal | None = None
        for entry in self._entries[scheme]:
            # Both comparisons always run, and the loop never stops early: constant time per scheme.
            same_user = hmac.compare_digest(username, entry.username)
            same_secret = hmac.compare_digest(secret, entry.secret)
            if same_user & same_secret:
                found = entry.principal
        return found
