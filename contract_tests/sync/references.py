"""openapi.yaml against its references: the seed and Infobip's published operation (contract_tests/reference/).
A disagreement is fixed in openapi.yaml, or in the reference copy when Infobip's documentation changed."""

from __future__ import annotations

from typing import Any, Final

from ..reference import (
    REQUEST_SAMPLE,
    RESPONSE_SAMPLE,
    official_identifier_types,
    official_operation,
    official_spec,
    seed_identifier_types,
    seed_sample,
    seed_statuses,
)
from ..spec import (
    documented_statuses,
    identifier_types,
    load_spec,
    request_body_errors,
    resolve,
    seed_request_example,
    seed_response_example,
    send_event_operation,
)
from .core import OFFICIAL_FILE, SEED_FILE, SPEC_FILE, Check, Drift, spec_file

__all__ = ["REFERENCE_CHECKS"]


def _identifier_types_cover_the_references() -> list[Drift]:
    ours = set(identifier_types())
    drifts = [
        Drift(SPEC_FILE, f"identifierType lacks {value}, which the seed ({SEED_FILE}) documents")
        for value in seed_identifier_types()
        if value not in ours
    ]
    drifts += [
        Drift(SPEC_FILE, f"identifierType lacks {value}, which Infobip's published spec ({OFFICIAL_FILE}) accepts")
        for value in official_identifier_types()
        if value not in ours
    ]
    return drifts


def _parameters_match_the_official_operation() -> list[Drift]:
    """The same query parameters (name, required), and the same path parameters, as Infobip's operation."""

    def wire(operation: dict[str, Any]) -> set[tuple[str, str, bool]]:
        return {(p["name"], p["in"], bool(p.get("required", False))) for p in operation["parameters"]}

    ours, theirs = wire(send_event_operation()), wire(official_operation())
    return [
        Drift(
            SPEC_FILE,
            f"parameters differ from Infobip's published operation ({OFFICIAL_FILE}): {sorted(ours ^ theirs)}",
        )
    ] * (ours != theirs)


def _statuses_cover_the_references() -> list[Drift]:
    ours = set(documented_statuses())
    theirs = seed_statuses() | {int(status) for status in official_operation()["responses"]}
    missing = sorted(theirs - ours)
    return [Drift(SPEC_FILE, f"does not document {missing}, which the seed or Infobip's operation documents")] * bool(
        missing
    )


def _security_scopes_and_throttling_match_the_official_operation() -> list[Drift]:
    ours, theirs = send_event_operation(), official_operation()
    drifts = []
    if {next(iter(s)) for s in ours["security"]} != {next(iter(s)) for s in theirs["security"]}:
        drifts.append(Drift(SPEC_FILE, f"security schemes differ from Infobip's ({OFFICIAL_FILE})"))
    for key in ("x-scopes", "x-throttling-info"):
        if ours.get(key) != theirs.get(key):
            drifts.append(
                Drift(SPEC_FILE, f"{key} is {ours.get(key)}, Infobip's ({OFFICIAL_FILE}) is {theirs.get(key)}")
            )
    return drifts


def _only_application_json_is_declared() -> list[Drift]:
    """The generator needs one media type; the server's other JSON types are documented in prose."""
    operation = send_event_operation()
    drifts = []
    if list(operation["requestBody"]["content"]) != ["application/json"]:
        drifts.append(Drift(SPEC_FILE, "the request body must declare only application/json (the generator's limit)"))
    drifts += [
        Drift(SPEC_FILE, f"response {status} must declare only application/json")
        for status, response in operation["responses"].items()
        if list(response.get("content", {})) != ["application/json"]
    ]
    return drifts


def _rate_limit_answer_says_when_to_retry() -> list[Drift]:
    header = send_event_operation()["responses"].get("429", {}).get("headers", {}).get("Retry-After")
    if header is None or header.get("required") is not True or not header.get("example", 0) >= 1:
        return [
            Drift(SPEC_FILE, "429 must declare a required Retry-After header with an example >= 1 (Prism needs it)")
        ]
    return []


def _sample_is_the_example(heading: str, example: dict[str, Any], where: str, schema: Any) -> list[Drift]:
    sample = seed_sample(heading)
    problems = []
    if example != sample:
        changed = sorted(set(example) ^ set(sample)) or sorted(k for k in example if example[k] != sample.get(k))
        problems.append(f"its `seed` example differs from the seed's sample in {changed}")
    problems += [
        f"the seed's sample does not validate: {error.message}" for error in _validator(schema).iter_errors(sample)
    ]
    if not problems:
        return []
    return [
        Drift(
            SPEC_FILE,
            f"{where}: {'; '.join(problems)}. The seed ({SEED_FILE}) is Infobip's documentation: follow it, or "
            "update that copy if the documentation changed",
        )
    ]


def _validator(schema: Any) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(
        resolve(schema), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def _request_sample_is_the_seed_example() -> list[Drift]:
    media = send_event_operation()["requestBody"]["content"]["application/json"]
    drifts = _sample_is_the_example(REQUEST_SAMPLE, seed_request_example(), "request body", media["schema"])
    drifts += [
        Drift(
            SPEC_FILE, f"request example {name!r} does not validate: {'; '.join(request_body_errors(example['value']))}"
        )
        for name, example in media["examples"].items()
        if request_body_errors(example["value"])
    ]
    return drifts


def _response_sample_is_the_seed_example() -> list[Drift]:
    media = send_event_operation()["responses"]["201"]["content"]["application/json"]
    return _sample_is_the_example(RESPONSE_SAMPLE, seed_response_example(), "201", media["schema"])


def _error_examples_are_envelopes() -> list[Drift]:
    drifts = []
    for status, response in send_event_operation()["responses"].items():
        if status.startswith("2"):
            continue
        media = response["content"]["application/json"]
        if "example" not in media:
            drifts.append(Drift(SPEC_FILE, f"response {status} needs an example (the client contract serves it)"))
            continue
        errors = [error.message for error in _validator(media["schema"]).iter_errors(media["example"])]
        if errors:
            drifts.append(Drift(SPEC_FILE, f"the example of {status} does not validate: {'; '.join(errors)}"))
    return drifts


def _official_properties_defect_is_still_fixed() -> list[Drift]:
    """Infobip's published spec types every value of `properties` as an object, which its own example violates."""
    official = official_spec()["components"]["schemas"]
    request = next(schema for name, schema in official.items() if name.endswith(".EventResourceRequest"))
    drifts = []
    if request["properties"]["properties"].get("additionalProperties") != {"type": "object"}:
        drifts.append(Drift(OFFICIAL_FILE, "the `properties` defect openapi.yaml corrects has moved: recheck it"))
    if load_spec()["components"]["schemas"]["EventProperties"].get("additionalProperties") is not True:
        drifts.append(Drift(SPEC_FILE, "EventProperties must allow any JSON value (additionalProperties: true)"))
    return drifts


def _path_parameters_are_bounded() -> list[Drift]:
    """Every path parameter has a minLength >= 1 and a maxLength: the live guard and the negative cases need them."""
    return [
        Drift(SPEC_FILE, f"path parameter {p['name']} needs minLength >= 1 and a maxLength")
        for p in send_event_operation()["parameters"]
        if p["in"] == "path"
        and not (resolve(p["schema"]).get("minLength", 0) >= 1 and "maxLength" in resolve(p["schema"]))
    ]


REFERENCE_CHECKS: Final = (
    Check("identifier-types-cover-the-references", _identifier_types_cover_the_references, spec_file),
    Check("parameters-match-the-official-operation", _parameters_match_the_official_operation, spec_file),
    Check("statuses-cover-the-references", _statuses_cover_the_references, spec_file),
    Check("security-scopes-throttling-match", _security_scopes_and_throttling_match_the_official_operation, spec_file),
    Check("only-application-json", _only_application_json_is_declared, spec_file),
    Check("rate-limit-answer-says-when-to-retry", _rate_limit_answer_says_when_to_retry, spec_file),
    Check("request-sample-is-the-seed-example", _request_sample_is_the_seed_example, spec_file),
    Check("response-sample-is-the-seed-example", _response_sample_is_the_seed_example, spec_file),
    Check("error-examples-are-envelopes", _error_examples_are_envelopes, spec_file),
    Check("official-properties-defect-is-fixed", _official_properties_defect_is_still_fixed, spec_file),
    Check("path-parameters-are-bounded", _path_parameters_are_bounded, spec_file),
)
