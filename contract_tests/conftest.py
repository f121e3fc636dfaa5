"""Fixtures shared by the contract tests: the spec's path and a factory of fresh reference mocks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from people_events_mock import create_app

REPO_ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = REPO_ROOT / "openapi.yaml"


@pytest.fixture
def openapi_path() -> Path:
    """The hand-authored spec, openapi.yaml."""
    return SPEC_PATH


@pytest.fixture
def mock_app() -> Callable[..., Starlette]:
    """Factory of fresh reference mocks: ``mock_app(rate_limit=..., clock=...)`` takes create_app's keywords."""

    def make(**options: Any) -> Starlette:
        return create_app(**options)

    return make
