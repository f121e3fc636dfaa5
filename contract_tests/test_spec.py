"""openapi.yaml agrees with the seed (the endpoint as documented to users) and Infobip's official extract."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "contract_tests" / "reference"
SPEC_PATH = ROOT / "openapi.yaml"
SEED_PATH = REFERENCE / "send-event-endpoint.txt"
OFFICIAL_PATH = REFERENCE / "infobip-people-events.official.json"
PATH = "/peopleevents/2/persons/{personId}/definitions/{definitionId}/events"

SEED_IDENTIFIER_TYPES = [
    "ID", "EXTERNAL_ID", "PHONE", "EMAIL", "LINE", "FACEBOOK", "TELEGRAM", "PUSH", "WEB_PUSH", "LIVE_CHAT",
    "VIBER_BOTS", "INSTAGRAM", "INSTAGRAM_DM", "TWITTER", "APPLE_BUSINESS_CHAT", "KAKAO_SANGDAM",
    "GOOGLE_BUSINESS_MESSAGES",
]  # fmt: skip
LIVE_ONLY_IDENTIFIER_TYPES = ["WHATSAPP", "ZALO_FOLLOWER", "TIKTOK_BM"]
SEED_STATUSES = {"201", "400", "401", "403", "404", "500"}


def load_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return spec


def seed_text() -> str:
    return SEED_PATH.read_text()


def seed_sample(heading: str) -> dict[str, Any]:
    """A JSON sample from the seed, which prints it with bullet markers that are stripped here."""
    text = seed_text()
    start = text.index(heading)
    block = text[text.index("{", start) :]
    depth, end = 0, 0
    while True:
        depth += {"{": 1, "}": -1}.get(block[end], 0)
        if depth == 0:
            break
        end += 1
    raw = block[: end + 1].replace("•", "")
    raw = re.sub(r'"\s*\n\s*(?=[{\[])', '" ', raw)
    sample: dict[str, Any] = json.loads(raw)
    return sample


def operation(spec: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = spec["paths"][PATH]["post"]
    return op


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """A copy of `node` with every local $ref inlined, for validation with jsonschema."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(spec, target)
        return {key: resolve(spec, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(spec, value) for value in node]
    return copy.deepcopy(node)


def spec_identifier_types(spec: dict[str, Any]) -> list[str]:
    values: list[str] = spec["components"]["schemas"]["IdentifierType"]["enum"]
    return values


def test_seed_samples_parse() -> None:
    assert seed_sample("Request samples")["properties"]["transactionId"] == "my-transaction-1"
    assert seed_sample("Response samples")["eventId"] == "EFDB662A-F0BD-4064-8F49-16C0C1C48AD2"


def test_every_seed_identifier_type_is_in_the_spec() -> None:
    enum_line = next(line for line in seed_text().splitlines() if line.startswith('Enum: "ID"'))
    documented = re.findall(r'"([A-Z_]+)"', enum_line)
    assert documented == SEED_IDENTIFIER_TYPES
    assert set(documented) <= set(spec_identifier_types(load_spec()))


def test_every_live_identifier_type_is_in_the_spec() -> None:
    official = json.loads(OFFICIAL_PATH.read_text())
    live = next(
        schema["enum"]
        for name, schema in official["components"]["schemas"].items()
        if name.endswith(".PersonUniqueFieldType")
    )
    assert set(LIVE_ONLY_IDENTIFIER_TYPES) <= set(live)
    assert set(spec_identifier_types(load_spec())) == set(live)


def test_path_and_query_parameters_match_the_official_operation() -> None:
    ours = {(p["name"], p["in"]): p.get("required", False) for p in operation(load_spec())["parameters"]}
    official_op = json.loads(OFFICIAL_PATH.read_text())["paths"][PATH]["post"]
    theirs = {(p["name"], p["in"]): p.get("required", False) for p in official_op["parameters"]}
    assert ours == theirs
    assert ours[("identifierType", "query")] is True


def test_response_codes_are_a_superset_of_seed_and_official() -> None:
    ours = set(operation(load_spec())["responses"])
    official_op = json.loads(OFFICIAL_PATH.read_text())["paths"][PATH]["post"]
    documented_in_seed = set(re.findall(r"^(\d{3})$", seed_text(), flags=re.MULTILINE))
    assert documented_in_seed == SEED_STATUSES
    assert ours >= SEED_STATUSES | set(official_op["responses"])
    assert {"413", "415", "429"} <= ours


def test_operation_declares_security_scopes_and_throttling_like_the_official_one() -> None:
    op = operation(load_spec())
    official_op = json.loads(OFFICIAL_PATH.read_text())["paths"][PATH]["post"]
    assert {next(iter(s)) for s in op["security"]} == {next(iter(s)) for s in official_op["security"]}
    assert op["x-scopes"] == official_op["x-scopes"]
    assert op["x-throttling-info"] == official_op["x-throttling-info"]


def test_only_application_json_is_declared() -> None:
    op = operation(load_spec())
    assert list(op["requestBody"]["content"]) == ["application/json"]
    for status, response in op["responses"].items():
        assert list(response.get("content", {})) == ["application/json"], status


def test_429_requires_retry_after_with_an_example() -> None:
    header = operation(load_spec())["responses"]["429"]["headers"]["Retry-After"]
    assert header["required"] is True
    assert header["example"] >= 1


def test_seed_request_sample_is_the_spec_example_and_validates() -> None:
    spec = load_spec()
    media = operation(spec)["requestBody"]["content"]["application/json"]
    sample = seed_sample("Request samples")
    assert media["examples"]["seed"]["value"] == sample
    schema = resolve(spec, media["schema"])
    for example in media["examples"].values():
        jsonschema.Draft202012Validator(schema).validate(example["value"])


def test_seed_response_sample_is_the_spec_example_and_validates() -> None:
    spec = load_spec()
    media = operation(spec)["responses"]["201"]["content"]["application/json"]
    sample = seed_sample("Response samples")
    assert media["examples"]["seed"]["value"] == sample
    jsonschema.Draft202012Validator(resolve(spec, media["schema"])).validate(sample)


def test_error_examples_validate_against_the_envelope() -> None:
    spec = load_spec()
    for status, response in operation(spec)["responses"].items():
        if status == "201":
            continue
        media = response["content"]["application/json"]
        jsonschema.Draft202012Validator(resolve(spec, media["schema"])).validate(media["example"])


def test_official_extract_has_the_properties_defect_we_deliberately_fix() -> None:
    """The official spec types every value of `properties` as an object; its own example has strings."""
    official = json.loads(OFFICIAL_PATH.read_text())
    request = next(s for n, s in official["components"]["schemas"].items() if n.endswith(".EventResourceRequest"))
    assert request["properties"]["properties"]["additionalProperties"] == {"type": "object"}
    ours = load_spec()["components"]["schemas"]["EventProperties"]
    assert ours["additionalProperties"] is True


def test_path_parameter_lengths_are_fixed() -> None:
    params = {p["name"]: p["schema"] for p in operation(load_spec())["parameters"]}
    assert params["personId"]["maxLength"] == 256
    assert params["definitionId"]["maxLength"] == 36


def test_package_version_is_the_spec_version() -> None:
    import people_events_client

    assert people_events_client.__version__ == load_spec()["info"]["version"]


SHARED = ROOT.parent / "shared"


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared checkout beside this repository")
@pytest.mark.parametrize(
    ("copy", "original"),
    [(SEED_PATH, SHARED / "seed" / SEED_PATH.name), (OFFICIAL_PATH, SHARED / "reference" / OFFICIAL_PATH.name)],
    ids=["seed", "official"],
)
def test_reference_copies_match_the_team_sources(copy: Path, original: Path) -> None:
    assert copy.read_bytes() == original.read_bytes()
