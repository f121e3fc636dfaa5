"""Root conftest of every suite (tests/, contract_tests/): shared fixture plugins and the Hypothesis profiles."""

import os

from hypothesis import settings

pytest_plugins = [
    "tests.support.freshness",
    "tests.support.postgres",
    "tests.support.redis_server",
    "tests.support.respx_router",
]

# CI runs are derandomized, so a failure there replays exactly; locally Hypothesis explores new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
