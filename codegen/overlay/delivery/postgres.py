"""The PostgreSQL store (psycopg 3, the ``postgres`` extra): the outbox for a fleet of application servers.

- **Transactional enqueue.** ``enqueue(events, connection=conn)`` inserts on the caller's connection, inside the
  caller's open transaction, and never commits: the event exists if and only if the business change commits.
- **Competing drainers.** Claims take due rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` and lease them until a
  time on the server's clock; drainers on any number of hosts never wait for each other or claim one event twice
  while its lease lives, and a killed drainer's events are claimed again once its leases expire.
- **Explicit schema.** ``migrate()`` creates the table (idempotent, under an advisory lock, so two deploys may run it
  at once); nothing else ever creates or alters it. Opening a store checks the schema version and names the
  command to run when the table is missing.

Times are the server's ``now()`` (one clock for every host); callers pass durations. The store's own connections
come from a small ``psycopg_pool`` pool, opened on first use, per process (a forked child opens its own and never
touches its parent's sockets). psycopg is imported only here, so the client works without the extra.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .errors import QueueFull, StoreError, StoreUnavailable
from .events import Claimed, Counts, FinishedRecord, Invalid, InvalidItem, NewEvent, Outcome, Rejected, Retry, Sent
from .records import claimed_events, finished_record, insert_rows, problem_text, room_error, to_json

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

SCHEMA_VERSION = 1
TABLE = "people_events_outbox"
META_TABLE = "people_events_outbox_meta"
MIGRATION_LOCK = 0x50455631_4F555458
"""``pg_advisory_xact_lock`` key held while migrating ("PEV1" "OUTX")."""

_SCHEMA = (
    """CREATE TABLE people_events_outbox (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected', 'invalid')),
        event_id text,
        person_id text,
        identifier_type text,
        definition_id text,
        properties json,
        create_person boolean NOT NULL DEFAULT false,
        ref text,
        original text,
        enqueued_at timestamptz NOT NULL DEFAULT now(),
        rounds integer NOT NULL DEFAULT 0,
        not_before timestamptz NOT NULL DEFAULT 'epoch',
        lease_owner text,
        lease_until timestamptz,
        last_error text,
        finished_at timestamptz,
        occurred_time text,
        status integer,
        message_id text,
        text text,
        validation_errors json,
        CHECK (state = 'invalid' OR (event_id IS NOT NULL AND person_id IS NOT NULL
                                     AND identifier_type IS NOT NULL AND definition_id IS NOT NULL))
    )""",
    "CREATE INDEX people_events_outbox_pending ON people_events_outbox (seq) WHERE state = 'pending'",
    "CREATE INDEX people_events_outbox_dead ON people_events_outbox (seq) WHERE state IN ('rejected', 'invalid')",
    "CREATE INDEX people_events_outbox_sent ON people_events_outbox (finished_at) WHERE state = 'sent'",
)

_INSERT = (
    "INSERT INTO people_events_outbox"
    " (event_id, person_id, identifier_type, definition_id, properties, create_person, ref)"
    " VALUES (%s, %s, %s, %s, %s::json, %s, %s)"
)
_PENDING_AT_MOST = (
    "SELECT count(*) FROM (SELECT 1 FROM people_events_outbox WHERE state = 'pending' LIMIT %s) AS pending"
)
_CLAIM = """WITH due AS (
        SELECT seq FROM people_events_outbox WHERE state = 'pending' AND not_before <= now()
        AND (lease_until IS NULL OR lease_until <= now()) ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED)
    UPDATE people_events_outbox AS e SET lease_owner = %s, lease_until = now() + make_interval(secs => %s)
    FROM due WHERE e.seq = due.seq
    RETURNING e.seq, e.event_id, e.person_id, e.identifier_type, e.definition_id, e.properties, e.create_person,
        e.ref, e.rounds"""
_SENT = (
    "UPDATE people_events_outbox SET state = 'sent', occurred_time = %s,"
    " lease_owner = NULL, lease_until = NULL, last_error = NULL, finished_at = now()"
    " WHERE seq = %s AND state = 'pending'"
)
_REJECTED = (
    "UPDATE people_events_outbox SET state = 'rejected', status = %s, message_id = %s, text = %s,"
    " validation_errors = %s::json, lease_owner = NULL, lease_until = NULL, last_error = NULL, finished_at = now()"
    " WHERE seq = %s AND state = 'pending'"
)
_INVALID = (
    "UPDATE people_events_outbox SET state = 'invalid', text = %s, validation_errors = %s::json,"
    " lease_owner = NULL, lease_until = NULL, last_error = NULL, finished_at = now()"
    " WHERE seq = %s AND state = 'pending'"
)
_RETRY = (
    "UPDATE people_events_outbox SET rounds = rounds + 1, not_before = now() + make_interval(secs => %s),"
    " last_error = %s, lease_owner = NULL, lease_until = NULL"
    " WHERE seq = %s AND state = 'pending' AND lease_owner = %s"
)
_FINISHED = (
    "SELECT seq, state, event_id, person_id, identifier_type, definition_id, properties, create_person, ref,"
    " status, message_id, text, validation_errors, original FROM people_events_outbox"
    " WHERE state = ANY(%s) AND seq > %s ORDER BY seq LIMIT %s"
)
_REDRIVE = (
    "UPDATE people_events_outbox SET state = 'pending', rounds = 0, not_before = 'epoch', lease_owner = NULL,"
    " lease_until = NULL, last_error = NULL, finished_at = NULL, status = NULL, message_id = NULL, text = NULL,"
    " validation_errors = NULL WHERE event_id = ANY(%s) AND state IN ('rejected', 'invalid') AND person_id IS NOT NULL"
)
_PURGE = "DELETE FROM people_events_outbox WHERE event_id = ANY(%s) AND state IN ('rejected', 'invalid')"
_PRUNE = (
    "DELETE FROM people_events_outbox WHERE seq IN (SELECT seq FROM people_events_outbox WHERE state = 'sent'"
    " AND finished_at < now() - make_interval(secs => %s) ORDER BY finished_at LIMIT %s)"
)
_PAGE = 500
_PRUNE_BATCH = 2000
MISSING_TABLE_HINT = "run `people-events migrate STORE_URL` (or Outbox.migrate()) once to create it"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "a PostgreSQL store needs psycopg 3: pip install 'infobip-people-events-client[postgres]'"
        ) from None
    return psycopg


class PostgresStore:
    """A ``Store`` in one PostgreSQL table (``people_events_outbox``, in the connection's ``search_path``).

    ``conninfo`` is anything libpq accepts (``postgresql://user@host:5432/db?sslmode=require``, or ``key=value``
    pairs); a password is best kept in ``PGPASSWORD`` or ``~/.pgpass``. Thread-safe.
    """

    def __init__(self, conninfo: str, *, pool_size: int = 4, connect_timeout: float = 10.0) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._conninfo = conninfo
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._pool_of: tuple[int, psycopg_pool.ConnectionPool[Any]] | None = None
        self._closed = False

    # Connections

    def _connect(self) -> psycopg.Connection[Any]:
        """One connection of our own, or a one-line ``StoreError`` saying why not (never the password)."""
        driver = _psycopg()
        try:
            connection: psycopg.Connection[Any] = driver.connect(
                self._conninfo, connect_timeout=max(1, round(self._connect_timeout)), application_name="people-events"
            )
        except driver.Error as err:
            raise StoreUnavailable(f"cannot connect to the PostgreSQL outbox: {_first_line(err)}") from None
        return connection

    def _pool(self) -> psycopg_pool.ConnectionPool[Any]:
        with self._lock:
            if self._closed:
                raise StoreError("the store is closed")
            if self._pool_of is not None and self._pool_of[0] == os.getpid():
                return self._pool_of[1]
            # First use in this process (a forked child must not use its parent's sockets: the parent's pool is
            # left alone, never closed from here). Check the schema on a connection of our own first, so a wrong
            # URL or a missing table is one clear error rather than a pool timeout.
            with self._connect() as connection:
                _check_schema(connection)
            try:
                import psycopg_pool
            except ImportError:
                raise StoreError(
                    "a PostgreSQL store needs psycopg_pool: pip install 'infobip-people-events-client[postgres]'"
                ) from None
            pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self._pool_size,
                kwargs={"application_name": "people-events"},
                check=psycopg_pool.ConnectionPool.check_connection,
                timeout=self._connect_timeout,
                name="people-events-outbox",
                open=True,
            )
            self._pool_of = (os.getpid(), pool)
            return pool

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for one transaction: committed on success, rolled back on any exception."""
        with self._pool().connection() as connection:
            yield connection

    # Schema

    def migrate(self) -> int:
        """Create the table and its indexes if they are missing; returns the schema version. Idempotent and safe to
        run from several processes at once (an advisory lock orders them)."""
        with self._connect() as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            version = _schema_version(connection)
            if version is None:
                for statement in _SCHEMA:
                    connection.execute(statement)
                connection.execute("CREATE TABLE people_events_outbox_meta (key text PRIMARY KEY, value text NOT NULL)")
                connection.execute(
                    "INSERT INTO people_events_outbox_meta (key, value) VALUES ('schema_version', %s)",
                    (str(SCHEMA_VERSION),),
                )
                return SCHEMA_VERSION
            _check_version(version)
            return version

    # Store

    def enqueue(
        self,
        events: Iterable[NewEvent],
        *,
        connection: psycopg.Connection[Any] | None = None,
        max_pending: int | None = None,
    ) -> None:
        """Insert pending events: on ``connection`` inside its open transaction (never committed here), else in a
        transaction of our own. ``max_pending`` is checked against committed pending events (transactions still
        open elsewhere are not seen, so concurrent ones may go past it by their own events).

        ``QueueFull`` writes nothing. On ``connection`` the caller must then roll back: a full disk has aborted the
        transaction (PostgreSQL refuses every further statement, and a commit silently rolls back), and over
        ``max_pending`` committing would keep the business change without its event."""
        rows = insert_rows(events)
        if not rows:
            return
        with _enqueue_errors():
            if connection is not None:
                self._insert(connection, rows, max_pending)
            else:
                with self._transaction() as own:
                    self._insert(own, rows, max_pending)

    @staticmethod
    def _insert(connection: psycopg.Connection[Any], rows: list[tuple[Any, ...]], max_pending: int | None) -> None:
        with connection.cursor() as cursor:
            if max_pending is not None:
                cursor.execute(_PENDING_AT_MOST, (max_pending + 1,))
                pending = _scalar(cursor.fetchone())
                if pending + len(rows) > max_pending:
                    raise room_error(pending, max_pending)
            cursor.executemany(_INSERT, rows)

    async def aenqueue(
        self,
        events: Iterable[NewEvent],
        *,
        connection: psycopg.AsyncConnection[Any],
        max_pending: int | None = None,
    ) -> None:
        """``enqueue`` on an asyncio application's ``psycopg.AsyncConnection``, inside its open transaction."""
        rows = insert_rows(events)
        if not rows:
            return
        with _enqueue_errors():
            async with connection.cursor() as cursor:
                if max_pending is not None:
                    await cursor.execute(_PENDING_AT_MOST, (max_pending + 1,))
                    pending = _scalar(await cursor.fetchone())
                    if pending + len(rows) > max_pending:
                        raise room_error(pending, max_pending)
                await cursor.executemany(_INSERT, rows)

    def record_invalid(self, items: Iterable[InvalidItem]) -> None:
        sql = (
            "INSERT INTO people_events_outbox (state, event_id, ref, original, validation_errors, text, finished_at)"
            " VALUES ('invalid', %s, %s, %s, %s::json, %s, now())"
        )
        rows = [(i.event_id, i.ref, i.original, to_json(dict(i.problems)), problem_text(i.problems)) for i in items]
        if rows:
            with self._transaction() as connection, connection.cursor() as cursor:
                cursor.executemany(sql, rows)

    def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Claimed]:
        if limit <= 0:
            return []
        with self._transaction() as connection:
            rows = connection.execute(_CLAIM, (limit, owner, float(lease_seconds))).fetchall()
        return claimed_events(rows, decode=lambda value: value)

    def renew(self, owner: str, lease_seconds: float) -> int:
        with self._transaction() as connection:
            cursor = connection.execute(
                "UPDATE people_events_outbox SET lease_until = now() + make_interval(secs => %s)"
                " WHERE state = 'pending' AND lease_owner = %s",
                (float(lease_seconds), owner),
            )
            return cursor.rowcount

    def release(self, owner: str) -> int:
        with self._transaction() as connection:
            cursor = connection.execute(
                "UPDATE people_events_outbox SET lease_owner = NULL, lease_until = NULL"
                " WHERE state = 'pending' AND lease_owner = %s",
                (owner,),
            )
            return cursor.rowcount

    def record(self, owner: str, outcomes: Sequence[tuple[int, Outcome]]) -> None:
        sent: list[tuple[Any, ...]] = []
        rejected: list[tuple[Any, ...]] = []
        invalid: list[tuple[Any, ...]] = []
        retry: list[tuple[Any, ...]] = []
        for seq, outcome in outcomes:
            if isinstance(outcome, Sent):
                sent.append((outcome.occurred_time, seq))
            elif isinstance(outcome, Rejected):
                errors = to_json(dict(outcome.validation_errors))
                rejected.append((outcome.status, outcome.message_id, outcome.text, errors, seq))
            elif isinstance(outcome, Invalid):
                invalid.append((problem_text(outcome.problems), to_json(dict(outcome.problems)), seq))
            else:
                assert isinstance(outcome, Retry)
                retry.append((float(outcome.delay), outcome.error, seq, owner))
        batches = [(sql, rows) for sql, rows in ((_SENT, sent), (_REJECTED, rejected), (_INVALID, invalid)) if rows]
        if retry:
            batches.append((_RETRY, retry))
        if not batches:
            return
        with self._transaction() as connection, connection.cursor() as cursor:
            for sql, rows in batches:
                cursor.executemany(sql, rows)

    def next_due(self) -> float | None:
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT extract(epoch FROM min(greatest(not_before, coalesce(lease_until, 'epoch'))) - now())"
                " FROM people_events_outbox WHERE state = 'pending'"
            ).fetchone()
        due = None if row is None else row[0]
        return None if due is None else max(0.0, float(due))

    def counts(self) -> Counts:
        """Each count reads its own partial index: pending events, sent ones, and rejected or invalid ones."""
        with self._transaction() as connection:
            pending = connection.execute(
                "SELECT count(*), count(*) FILTER (WHERE lease_until > now()), count(*) FILTER (WHERE rounds > 0),"
                " extract(epoch FROM now() - min(enqueued_at)) FROM people_events_outbox WHERE state = 'pending'"
            ).fetchone()
            sent = connection.execute("SELECT count(*) FROM people_events_outbox WHERE state = 'sent'").fetchone()
            dead = dict(
                connection.execute(
                    "SELECT state, count(*) FROM people_events_outbox"
                    " WHERE state IN ('rejected', 'invalid') GROUP BY state"
                ).fetchall()
            )
        assert pending is not None
        count, in_flight, retrying, oldest = pending
        return Counts(
            pending=count,
            in_flight=in_flight,
            retrying=retrying,
            sent=_scalar(sent),
            rejected=dead.get("rejected", 0),
            invalid=dead.get("invalid", 0),
            oldest_pending_age=None if oldest is None else max(0.0, float(oldest)),
        )

    def finished(self, states: Sequence[str] = ("rejected", "invalid")) -> Iterator[FinishedRecord]:
        wanted = [state for state in states if state in ("sent", "rejected", "invalid")]
        if not wanted:
            return
        after = 0
        while True:
            with self._transaction() as connection:  # one page per transaction: nothing held while the caller reads
                rows = connection.execute(_FINISHED, (wanted, after, _PAGE)).fetchall()
            for row in rows:
                yield finished_record(row, decode=lambda value: value)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def redrive(self, event_ids: Iterable[str]) -> int:
        """Queue rejected (or invalid) events with these eventIds again, as new; returns how many."""
        with self._transaction() as connection:
            return connection.execute(_REDRIVE, (list(event_ids),)).rowcount

    def purge(self, event_ids: Iterable[str]) -> int:
        """Delete rejected (or invalid) events with these eventIds; returns how many."""
        with self._transaction() as connection:
            return connection.execute(_PURGE, (list(event_ids),)).rowcount

    def prune(self, older_than: float) -> int:
        """Delete events sent more than ``older_than`` seconds ago, in short transactions; returns how many."""
        deleted = 0
        while True:
            with self._transaction() as connection:
                count = connection.execute(_PRUNE, (float(older_than), _PRUNE_BATCH)).rowcount
            deleted += count
            if count < _PRUNE_BATCH:
                return deleted

    def close(self) -> None:
        """Close this process's pool (a forked child never closes its parent's)."""
        with self._lock:
            self._closed = True
            pool_of, self._pool_of = self._pool_of, None
        if pool_of is not None and pool_of[0] == os.getpid():
            pool_of[1].close()


@contextlib.contextmanager
def _enqueue_errors() -> Iterator[None]:
    """An enqueue's database errors as the store's own, each in one line."""
    driver = _psycopg()
    try:
        yield
    except driver.errors.UndefinedTable:
        raise StoreError(f"the outbox table {TABLE} does not exist: {MISSING_TABLE_HINT}") from None
    except driver.errors.DiskFull:
        # SQLSTATE 53100, PostgreSQL's code for ENOSPC when a heap, TOAST or index file cannot grow. On the caller's
        # connection, PostgreSQL has aborted its transaction.
        raise QueueFull(
            "the PostgreSQL server's disk is full: nothing was enqueued (events already enqueued are intact)",
            reason="disk",
        ) from None
    except driver.OperationalError as err:  # psycopg_pool's PoolTimeout too
        raise StoreUnavailable(
            f"the PostgreSQL outbox could not be written ({type(err).__name__}: {_first_line(err)}); the event may "
            "or may not be enqueued: enqueue it again with the same event_id"
        ) from err


def _scalar(row: tuple[Any, ...] | None) -> int:
    assert row is not None
    return int(row[0])


def _schema_version(connection: psycopg.Connection[Any]) -> int | None:
    row = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (META_TABLE,)).fetchone()
    if row is None or not row[0]:
        return None
    value = connection.execute("SELECT value FROM people_events_outbox_meta WHERE key = 'schema_version'").fetchone()
    if value is None:
        raise StoreError("people_events_outbox_meta exists but holds no schema_version: not a People Events outbox")
    return int(value[0])


def _check_version(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the outbox table has schema version {version}; this client reads version {SCHEMA_VERSION}"
            " (upgrade infobip-people-events-client)"
        )


def _check_schema(connection: psycopg.Connection[Any]) -> None:
    version = _schema_version(connection)
    connection.rollback()
    if version is None:
        raise StoreError(f"the outbox table {TABLE} does not exist in this database: {MISSING_TABLE_HINT}")
    _check_version(version)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
