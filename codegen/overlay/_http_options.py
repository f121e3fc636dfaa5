"""``http_client_args`` of the facade: options that reach httpx, and the ones the facade keeps for itself.

The send loop sits above httpx, so httpx is configured as usual: a proxy from the environment (``HTTPS_PROXY``,
``NO_PROXY``) works as in plain httpx, and ``event_hooks`` see every attempt's request and response, 4xx and 5xx
included, before the facade classifies them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

CLIENT_OPTIONS = frozenset(
    {"verify", "cert", "trust_env", "http1", "http2", "limits", "proxy", "mounts", "transport", "event_hooks",
     "default_encoding"}
)  # fmt: skip
TRANSPORT_ONLY_OPTIONS = frozenset({"uds", "local_address", "retries", "socket_options"})
"""Options httpx takes only on a transport: given any, the facade builds the transport (with the others too)."""
_SHARED_WITH_TRANSPORT = frozenset({"verify", "cert", "trust_env", "http1", "http2", "limits", "proxy"})


@attrs.frozen
class HttpOptions:
    verify: Any
    """For the generated client's ``verify_ssl`` (it passes ``verify`` to httpx itself)."""
    client_options: dict[str, Any]
    transport_options: dict[str, Any]
    """Non-empty when the facade must build the transport itself, one per connection pool."""

    @property
    def has_cert(self) -> bool:
        return "cert" in self.client_options or "cert" in self.transport_options

    @property
    def caller_transport(self) -> bool:
        """Whether the caller gave a transport or mounts (which the facade cannot rebuild after a fork)."""
        return "transport" in self.client_options or "mounts" in self.client_options

    def httpx_args(self, transport_class: Callable[..., Any]) -> dict[str, Any]:
        """Keyword arguments for a new httpx client; a transport built here is new on every call, so that each
        pool (one per process, or per event loop) has its own."""
        if not self.transport_options:
            return dict(self.client_options)
        return {**self.client_options, "transport": transport_class(verify=self.verify, **self.transport_options)}


def split_http_client_args(args: Mapping[str, Any]) -> HttpOptions:
    """Sort the options, or ValueError for one that would clash with the facade's own."""
    unknown = set(args) - CLIENT_OPTIONS - TRANSPORT_ONLY_OPTIONS
    if unknown:
        raise ValueError(
            f"http_client_args does not take {sorted(unknown)}: base_url, headers, auth, timeout and redirects are "
            f"the facade's own; allowed are {sorted(CLIENT_OPTIONS | TRANSPORT_ONLY_OPTIONS)}"
        )
    options = dict(args)
    verify = options.pop("verify", True)
    if not TRANSPORT_ONLY_OPTIONS & options.keys():
        return HttpOptions(verify=verify, client_options=options, transport_options={})
    if "transport" in options:
        raise ValueError(f"http_client_args takes either a transport or {sorted(TRANSPORT_ONLY_OPTIONS)}, not both")
    transport_options = {
        name: options.pop(name) for name in list(options) if name in TRANSPORT_ONLY_OPTIONS | _SHARED_WITH_TRANSPORT
    }
    return HttpOptions(verify=verify, client_options=options, transport_options=transport_options)


def is_async_transport(transport: object) -> bool:
    return isinstance(transport, httpx.AsyncBaseTransport) or hasattr(transport, "handle_async_request")


def is_sync_transport(transport: object) -> bool:
    return isinstance(transport, httpx.BaseTransport) or hasattr(transport, "handle_request")
