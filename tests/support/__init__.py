"""Shared test helpers, in one place: every suite (tests/, contract_tests/) imports them from here.

- ``clock``: `FakeClock`, a clock that moves only when told to or when the code under test sleeps.
- ``net``: `free_port`.
- ``spec``: openapi.yaml loaded once, the Send Event operation, `assert_conforms` for a response.
- ``windows``: `max_per_rolling_second` for acceptance-time checks.
- ``mock_api``: the reference mock's default credentials and seed ids, `event_path`, `service_exception`, and the
  call signatures of the mock's test fixtures (`Sender`, `MockAppFactory`).
- ``rawhttp``: raw requests below any HTTP client, into an ASGI app or as bytes on a socket, and their parsing.
- ``versions``: the version both packages must carry (scripts/versioning.py, loaded by path).
- ``servers``: `tcp_server` (a handler per connection), `silent_server` (accepts, never answers),
  `scripted_http_server` (canned answers), and `trickling_server` (an answer a byte at a time).
- ``mock_admin``: the one read-back of the mock's stored events (`stored_events`, paged), faults, reset, request
  counts.
- ``facades``: a `Driver` that runs the sync or the async facade through the same calls; canned Infobip answers.
- ``senders``: threads and processes sending through the facade, counting the server's 429s.
- ``forking``: `in_forked_children`, as pre-fork servers run code; `describe_error`.
- ``respx_router``: the ``api`` fixture, a respx router on `BASE_URL` (a pytest plugin).
- ``redis_server``: throwaway Debian redis-server fixtures (a pytest plugin).
- ``freshness``: stops a run at once when generated/ is stale, naming `make regenerate` (a pytest plugin).
- ``bulk``: input rows for the bulk CLI and the delivery engine, and running `people-events send` as a process.
- ``drain_worker``: a delivery drainer in a process of its own (``python -m tests.support.drain_worker``).

No test module imports another test module; helpers that two modules need move here.
"""
