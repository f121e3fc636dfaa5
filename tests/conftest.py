"""Thin root conftest: shared fixture modules are loaded as plugins."""

pytest_plugins = ["tests.fixtures.redis_server"]
