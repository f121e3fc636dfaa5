"""The spec-change workflow, tried as a user would: five realistic changes of openapi.yaml, each applied to a
temporary copy of the repository, which is then regenerated (``scripts/regenerate.py``) and tested
(``pytest contract_tests -m "not slow and not prism"``, the contract suite without its long runs and Prism).

Each change says what must happen: the suite passes with no hand edit, or it fails with exactly one message that
names the file to edit and why (sync.py finds those; conftest.py makes the rest of the suite wait for them).
``Step.then`` follows a message as the user would (e.g. update the reference copy when Infobip's documentation
changed), to show the next message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from .nested import nested_env
from .spec import REPO_ROOT

__all__ = ["CHANGES", "Change", "Outcome", "Step", "copy_repository", "run_step"]

#: A run of the copied suite may take this long at most.
RUN_TIMEOUT_SECONDS: Final = 300
#: Fewer schemathesis cases than a full run: the workflow is about what follows the spec, not about fuzzing.
MAX_EXAMPLES: Final = "10"
SUITE: Final = ("contract_tests", "-m", "not slow and not prism")

Edit = Callable[[Path], None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run of the copied suite did: the failed tests with their messages, and the exit code."""

    returncode: int
    failures: dict[str, str]
    passed: int
    output_tail: str


@dataclass(frozen=True, slots=True)
class Step:
    """Edits to apply, then what must happen: pass (`names` empty), or fail once naming every one of `names`."""

    edit: Edit
    names: tuple[str, ...] = ()
    then: Step | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A change of openapi.yaml a user would make, and what must follow."""

    id: str
    summary: str
    step: Step
    steps: list[Step] = field(init=False)

    def __post_init__(self) -> None:
        steps: list[Step] = []
        step: Step | None = self.step
        while step is not None:
            steps.append(step)
            step = step.then
        object.__setattr__(self, "steps", steps)


def _edit_spec(change: Callable[[dict[str, Any]], None]) -> Edit:
    def edit(repository: Path) -> None:
        path = repository / "openapi.yaml"
        spec = yaml.safe_load(path.read_text("utf-8"))
        change(spec)
        path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=120), "utf-8")

    return edit


def _operation(spec: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = next(
        item["post"]
        for item in spec["paths"].values()
        if item.get("post", {}).get("operationId") == "send-custom-event"
    )
    return operation


def _add_optional_request_field(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["EventRequest"]["properties"]["occurredTime"] = {
        "type": "string",
        "format": "date-time",
        "description": "When the event happened, if not when it is received.",
        "example": "2024-05-17T15:47:50Z",
    }


def _add_identifier_type(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["IdentifierType"]["enum"].append("RCS")


def _document_409(spec: dict[str, Any]) -> None:
    _operation(spec)["responses"]["409"] = {
        "description": "Conflict: the eventId was already recorded for this person with other properties.",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ApiException"},
                "example": {"requestError": {"serviceException": {"messageId": "CONFLICT", "text": "Conflict"}}},
            }
        },
    }


def _bump_version(spec: dict[str, Any]) -> None:
    major, minor, *_ = str(spec["info"]["version"]).split(".")
    spec["info"]["version"] = f"{major}.{int(minor) + 1}.0"


_OLD_FIELD: Final = "occurredTime"
_NEW_FIELD: Final = "occurredAt"


def _rename_required_response_field(spec: dict[str, Any]) -> None:
    schema = spec["components"]["schemas"]["EventResponse"]
    schema["properties"] = {
        (_NEW_FIELD if name == _OLD_FIELD else name): value for name, value in schema["properties"].items()
    }
    schema["required"] = [_NEW_FIELD if name == _OLD_FIELD else name for name in schema["required"]]
    for example in _operation(spec)["responses"]["201"]["content"]["application/json"]["examples"].values():
        example["value"] = {(_NEW_FIELD if k == _OLD_FIELD else k): v for k, v in example["value"].items()}


def _documentation_renamed_it_too(repository: Path) -> None:
    """Follow the message: Infobip's documentation renamed the field, so the reference copy of the seed changes."""
    seed = repository / "contract_tests" / "reference" / "send-event-endpoint.txt"
    seed.write_text(seed.read_text("utf-8").replace(f'"{_OLD_FIELD}"', f'"{_NEW_FIELD}"'), "utf-8")


CHANGES: Final = (
    Change(
        "add-optional-request-field",
        "EventRequest gets an optional occurredTime: the facade cannot send it, and send() is named",
        Step(_edit_spec(_add_optional_request_field), ("codegen/overlay/", "send()", "occurredTime")),
    ),
    Change(
        "add-identifier-type", "IdentifierType gets RCS: everything follows", Step(_edit_spec(_add_identifier_type))
    ),
    Change(
        "document-409", "a 409 is documented: the client contract serves its example", Step(_edit_spec(_document_409))
    ),
    Change("bump-info-version", "info.version goes up: the package version follows", Step(_edit_spec(_bump_version))),
    Change(
        "rename-required-field",
        "EventResponse's occurredTime becomes occurredAt: first the seed disagrees, then the mock's 201 must follow",
        Step(
            _edit_spec(_rename_required_response_field),
            ("openapi.yaml", "send-event-endpoint.txt", _OLD_FIELD),
            Step(_documentation_renamed_it_too, ("people_events_mock/", _NEW_FIELD)),
        ),
    ),
)


def copy_repository(destination: Path) -> Path:
    """The repository's files (tracked, and untracked but not ignored) copied to `destination`, without .venv,
    node_modules or caches."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name.decode()
        if source.is_file():
            target = destination / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _env(repository: Path, pycache: Path) -> dict[str, str]:
    # The copy's packages come before the editable installs of this checkout (those come from .pth files, after).
    return nested_env(
        pycache,
        PYTHONPATH=f"{repository}{os.pathsep}{repository / 'generated'}",
        CONTRACT_MAX_EXAMPLES=MAX_EXAMPLES,
    )


def run_step(repository: Path, step: Step, pycache: Path) -> Outcome:
    """Apply `step`'s edit to the copy, regenerate the client there, and run the suite there."""
    step.edit(repository)
    env = _env(repository, pycache)
    regenerated = subprocess.run(
        [sys.executable, str(repository / "scripts" / "regenerate.py")],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if regenerated.returncode != 0:
        return Outcome(regenerated.returncode, {"make regenerate": regenerated.stderr[-2000:]}, 0, regenerated.stderr)
    junit = repository / "reports" / "workflow.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *SUITE, "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=repository,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    failures, passed = _read_junit(junit)
    return Outcome(done.returncode, failures, passed, (done.stdout + done.stderr)[-3000:])


def _read_junit(junit: Path) -> tuple[dict[str, str], int]:
    """Failed tests (module::name[params]) with their failure message, and the count of tests that passed."""
    if not junit.exists():
        return {"(no report)": "pytest wrote no JUnit report"}, 0
    failures, passed = {}, 0
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            failures[name] = problem.get("message", "") or (problem.text or "")
        elif case.find("skipped") is None:
            passed += 1
    return failures, passed
