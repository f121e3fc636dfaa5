# copied from codegen/overlay/_logging.py by `make regenerate`; edit there, never here.
"""Logging safety: no log record carries a credential.

The facade logs one DEBUG line per attempt to ``people_events_client`` (status or error name, never headers).
With HTTP/2 (the ``http2`` option, or a transport or mount of yours), hpack logs header lists and encoded header
blocks at DEBUG, Authorization included, and a header block is easy to decode; those records are dropped at the
source, from the moment this package is imported.
"""

from __future__ import annotations

import logging

_HPACK_LOGGERS = ("hpack", "hpack.hpack", "hpack.table", "hpack.huffman")


class _DropDebug(logging.Filter):
    """Drops DEBUG records: hpack's are the headers it encodes and decodes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def drop_hpack_header_logs() -> None:
    """Install the filter on hpack's loggers once (a filter applies only to records its own logger creates)."""
    for name in _HPACK_LOGGERS:
        hpack_logger = logging.getLogger(name)
        if not any(isinstance(f, _DropDebug) for f in hpack_logger.filters):
            hpack_logger.addFilter(_DropDebug())


drop_hpack_header_logs()
