# copied from codegen/overlay/outbox/stores.py by `make regenerate`; edit there, never here.
"""Store URLs: ``sqlite:///absolute/path.db``, ``sqlite:relative/path.db`` (or a path object), and
``postgresql://user@host:5432/db`` (``postgres://`` and SQLAlchemy's ``postgresql+psycopg://`` too)."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from ..delivery import OutboxStore, PostgresStore, SQLiteStore

StoreURL = str | os.PathLike[str]

_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_postgres(url: StoreURL) -> bool:
    return isinstance(url, str) and urllib.parse.urlsplit(url).scheme in _POSTGRES_SCHEMES


def sqlite_path(url: StoreURL) -> Path:
    """The file of an SQLite store URL (or path); ValueError for anything else."""
    if not isinstance(url, str):
        return Path(url)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "sqlite":
        raise ValueError(
            f"a store URL starts with sqlite: or postgresql://, not {redact(url)!r}"
            " (sqlite:///absolute/path.db, sqlite:relative/path.db, postgresql://user@host/db)"
        )
    if parts.netloc or parts.query or parts.fragment or not parts.path:
        raise ValueError(f"an SQLite store URL is sqlite:///absolute/path.db or sqlite:relative/path.db, not {url!r}")
    return Path(urllib.parse.unquote(parts.path))


def open_store(url: StoreURL, *, fsync: bool = True, pool_size: int = 4) -> OutboxStore:
    """The store at ``url``. An SQLite file is created (with its schema) on first use; a PostgreSQL database must
    have been migrated (``migrate``), and is not connected to until first used."""
    if is_postgres(url):
        assert isinstance(url, str)
        return PostgresStore(_libpq_url(url), pool_size=pool_size)
    return SQLiteStore(sqlite_path(url), durable=fsync)


def _libpq_url(url: str) -> str:
    """libpq reads postgresql:// and postgres://; SQLAlchemy's driver suffix is dropped."""
    return "postgresql" + url[len("postgresql+psycopg") :] if url.startswith("postgresql+psycopg:") else url


def redact(url: StoreURL) -> str:
    """The URL with any password replaced by ``***``, for messages."""
    text = os.fspath(url)
    parts = urllib.parse.urlsplit(text)
    if parts.password is not None:
        user = parts.username or ""
        parts = parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}")
    if "password" in parts.query:
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        hidden = [(key, "***" if key == "password" else value) for key, value in query]
        parts = parts._replace(query=urllib.parse.urlencode(hidden, safe="*"))
    return urllib.parse.urlunsplit(parts)
