"""The HTML API reference (`make docs`) renders in a real browser: the operation, every documented status with its
example, every identifier type and the seed's examples. Expectations come from openapi.yaml, never a copied list.

The page is built by scripts/build_docs.py (what `make docs` runs) into a temporary folder and opened from disk in
Debian's headless Chromium, driven by Playwright (which never downloads a browser of its own here). A full-page
screenshot goes to reports/docs-reference.png for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from tests.support.spec import SEND_EVENT_PATH, documented_statuses, load_spec, send_event_operation

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "reports" / "docs-reference.png"
# Flags that work on this machine: no sandbox as root, and no background traffic to a network that is not there.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDER_TIMEOUT_MS = 30_000

pytestmark = pytest.mark.slow


def _require(what: str, present: bool) -> None:
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing; .ci/run installs it")
        pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require("node_modules/.bin/redocly (npm ci)", (ROOT / "node_modules" / ".bin" / "redocly").exists())
    output = tmp_path_factory.mktemp("docs") / "reference.html"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_docs.py"), str(output)], check=True, timeout=120)
    return output


@pytest.fixture(scope="module")
def page(reference: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """The reference in headless Chromium, with the Send Event operation opened as a reader would open it."""
    _require("Debian's chromium (/usr/bin/chromium)", CHROMIUM.exists())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        browser.set_default_timeout(RENDER_TIMEOUT_MS)
        page = browser.new_page()
        page.goto(reference.as_uri())
        page.get_by_role("link", name=f"post {SEND_EVENT_PATH}", exact=True).click()  # in the Operations list
        expect(page.get_by_role("heading", name="Responses")).to_be_visible()
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        yield page
        browser.close()


def _words(markdown: str) -> str:
    """A description as the page shows it: markdown code marks dropped, whitespace collapsed."""
    return " ".join(markdown.replace("`", "").split())


def _example(status: int) -> Any:
    """The example openapi.yaml documents for a status: its `seed` example when it has several."""
    media = send_event_operation()["responses"][str(status)]["content"]["application/json"]
    return media["examples"]["seed"]["value"] if "examples" in media else media["example"]


def _response_samples(page: Page) -> Locator:
    return page.locator("[data-component-name='Panel/Panel']").filter(has_text=re.compile(r"^Response"))


def test_the_operation_renders(page: Page) -> None:
    operation = send_event_operation()
    # Headings carry an anchor link, named "link to ...", before their text.
    expect(page.get_by_role("heading", name=re.compile(rf"\b{re.escape(operation['summary'])}$"))).to_be_visible()
    expect(page.get_by_text(SEND_EVENT_PATH, exact=True).first).to_be_visible()
    expect(page.get_by_text(_words(operation["description"].splitlines()[0]))).to_be_visible()


def test_every_documented_status_renders_with_its_description(page: Page) -> None:
    statuses = documented_statuses()
    tabs = page.get_by_role("tablist").filter(has=page.get_by_role("tab", name=str(statuses[0]), exact=True))
    assert [int(name) for name in tabs.get_by_role("tab").all_inner_texts()] == statuses
    for status in statuses:
        tabs.get_by_role("tab", name=str(status), exact=True).click()
        description = _words(send_event_operation()["responses"][str(status)]["description"])
        expect(page.get_by_text(description, exact=True)).to_be_visible()


def test_every_documented_status_shows_its_example(page: Page) -> None:
    samples = _response_samples(page)
    for status in documented_statuses():
        samples.get_by_role("button", name=str(status), exact=True).click()
        viewer = samples.locator("[data-testid=json-viewer]")
        expect(viewer).to_be_visible()
        assert json.loads(viewer.inner_text()) == _example(status), status


def test_every_identifier_type_renders(page: Page) -> None:
    identifier_types = load_spec()["components"]["schemas"]["IdentifierType"]["enum"]
    assert len(identifier_types) == len(set(identifier_types))
    for value in identifier_types:
        expect(page.get_by_text(f'"{value}"', exact=True)).to_be_visible()


def test_the_seed_request_example_renders(page: Page) -> None:
    seed = send_event_operation()["requestBody"]["content"]["application/json"]["examples"]["seed"]
    payload = page.locator("[data-component-name='Panel/Panel']").filter(has_text=seed["summary"])
    expect(payload.get_by_text(seed["summary"], exact=True)).to_be_visible()
    assert json.loads(payload.locator("[data-testid=json-viewer]").inner_text()) == seed["value"]
