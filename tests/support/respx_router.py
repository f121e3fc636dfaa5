"""The ``api`` fixture: a respx router on `BASE_URL` that lets unmatched routes go uncalled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

BASE_URL = "https://api.infobip.com"
API_KEY = "unit-test-secret-key"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """Routes on https://api.infobip.com; add them with ``api.post(path).mock(...)``."""
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router
