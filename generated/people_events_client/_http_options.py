# copied from codegen/overlay/_http_options.py by `make regenerate`; edit there, never here.
"""``http_client_args`` of the facade: which options reach the HTTP transport, which the client, which none.

The facade always installs its own transport stack, so httpx would ignore transport options given to the
client, and would route requests that match a proxy environment variable through a transport of its own,
around the stack (no typed errors, retries or pacing). So transport options build the innermost
transport, the proxy from the environment is resolved here for the base URL, and the client gets
``trust_env=False``.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

TRANSPORT_OPTIONS = frozenset(
    {"verify", "cert", "trust_env", "http1", "http2", "limits", "proxy", "uds", "local_address", "retries",
     "socket_options"}
)  # fmt: skip
CLIENT_OPTIONS = frozenset({"transport", "event_hooks", "default_encoding"})


@attrs.frozen
class HttpOptions:
    transport: Any
    """A transport of the caller's (the innermost one), or None for httpx's own."""
    transport_options: dict[str, Any]
    client_options: dict[str, Any]


def environment_proxy(base_url: str) -> str | None:
    """The proxy the environment (HTTPS_PROXY, ALL_PROXY, NO_PROXY) names for this base URL, if any."""
    url = httpx.URL(base_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass(url.host):
        return proxy
    return None


def split_http_client_args(args: Mapping[str, Any], base_url: str) -> HttpOptions:
    """Sort the options, or ValueError for one that would break the stack or clash with the facade's own."""
    unknown = set(args) - TRANSPORT_OPTIONS - CLIENT_OPTIONS
    if unknown:
        raise ValueError(
            f"http_client_args does not take {sorted(unknown)}: base_url, headers, auth and timeout are the "
            f"facade's own; allowed are {sorted(TRANSPORT_OPTIONS | CLIENT_OPTIONS)}"
        )
    transport_options = {name: value for name, value in args.items() if name in TRANSPORT_OPTIONS}
    client_options = {name: value for name, value in args.items() if name in CLIENT_OPTIONS and name != "transport"}
    transport = args.get("transport")
    if transport is not None and transport_options:
        raise ValueError("http_client_args takes either a transport or transport options, not both")
    if transport is None and "proxy" not in transport_options and transport_options.get("trust_env", True):
        proxy = environment_proxy(base_url)
        if proxy:
            transport_options["proxy"] = proxy
    return HttpOptions(transport=transport, transport_options=transport_options, client_options=client_options)
