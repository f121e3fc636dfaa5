"""Shared test helpers, in one place: every suite (tests/, contract_tests/) imports them from here.

- ``clock``: `FakeClock`, a clock that moves only when told to or when the code under test sleeps.
- ``net``: `free_port`.
- ``spec``: openapi.yaml loaded once, the Send Event operation, `assert_conforms` for a response.
- ``windows``: `max_per_rolling_second` for acceptance-time checks.
- ``mock_api``: the reference mock's default credentials and seed ids, `event_path`, `service_exception`, and the
  call signatures of the mock's test fixtures (`Sender`, `MockAppFactory`).
- ``rawhttp``: raw requests below any HTTP client, into an ASGI app or as bytes on a socket, and their parsing.
- ``respx_router``: the ``api`` fixture, a respx router on `BASE_URL` (a pytest plugin).
- ``redis_server``: throwaway Debian redis-server fixtures (a pytest plugin).

No test module imports another test module; helpers that two modules need move here.
"""
