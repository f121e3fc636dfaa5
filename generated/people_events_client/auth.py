# copied from codegen/overlay/auth.py by `make regenerate`; edit there, never here.
"""Credentials other than an API key. Their repr never shows the secret."""

from __future__ import annotations

import base64

import attrs


@attrs.frozen
class BasicAuth:
    """Infobip username and password: ``Authorization: Basic base64(username:password)``."""

    username: str
    password: str = attrs.field(repr=False)

    def header_value(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


@attrs.frozen
class IBSSOToken:
    """A session token: ``Authorization: IBSSO <token>``."""

    token: str = attrs.field(repr=False)

    def header_value(self) -> str:
        return f"IBSSO {self.token}"


@attrs.frozen
class BearerToken:
    """An OAuth 2.0 client-credentials access token: ``Authorization: Bearer <token>``."""

    token: str = attrs.field(repr=False)

    def header_value(self) -> str:
        return f"Bearer {self.token}"


Auth = BasicAuth | IBSSOToken | BearerToken
