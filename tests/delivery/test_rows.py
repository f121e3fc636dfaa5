"""Reading input rows (JSONL, CSV typing rules), local validation, and derived eventIds."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from people_events_client.cli.event_ids import NAMESPACE, canonical_row, derive_event_id
from people_events_client.cli.ingest import examine
from people_events_client.cli.journal import PendingRow
from people_events_client.cli.rows import (
    CsvHeader,
    InputError,
    Row,
    TrackedInput,
    csv_rows,
    jsonl_rows,
    read_csv_header,
)
from people_events_client.delivery import InvalidItem, event_problems


def jsonl(text: str | bytes) -> list[Row]:
    data = text.encode() if isinstance(text, str) else text
    return list(jsonl_rows(TrackedInput(io.BytesIO(data))))


def csv_input(text: str) -> list[Row]:
    source = TrackedInput(io.BytesIO(text.encode()))
    return list(csv_rows(source, read_csv_header(source)))


BASE = '"personId": "crm-1001", "identifierType": "EXTERNAL_ID", "definitionId": "addToCart"'


def test_jsonl_rows_keep_their_line_numbers_and_skip_blank_lines() -> None:
    rows = jsonl(f'{{{BASE}}}\n\n   \n{{{BASE}, "eventId": "e-1"}}\n')
    assert [row.line for row in rows] == [1, 4]
    assert rows[1].fields == {
        "personId": "crm-1001",
        "identifierType": "EXTERNAL_ID",
        "definitionId": "addToCart",
        "eventId": "e-1",
    }
    assert all(not row.problems for row in rows)


@pytest.mark.parametrize(
    ("line", "field", "phrase"),
    [
        ("not json", "row", "is not valid JSON"),
        ("[1, 2]", "row", "must be a JSON object"),
        (f'{{{BASE}, "properties": {{"x": NaN}}}}', "row", "NaN is not a JSON number"),
        (f'{{{BASE}, "properties": {{"x": Infinity}}}}', "row", "Infinity is not a JSON number"),
        (f'{{{BASE}, "properties": {{"x": 1, "x": 2}}}}', "row", "duplicate key 'x'"),
        (f'{{{BASE}, "properties": {{"x": {"9" * 5000}}}}}', "row", "is not valid JSON"),
        ('{"identifierType": "EMAIL", "definitionId": "addToCart"}', "personId", "is required"),
        ('{"personId": 7, "identifierType": "EMAIL", "definitionId": "addToCart"}', "personId", "must be a string"),
        (f'{{{BASE}, "properties": [1]}}', "properties", "must be a JSON object"),
        (f'{{{BASE}, "eventId": 12}}', "eventId", "must be a string"),
        (f'{{{BASE}, "createPerson": "yes"}}', "createPerson", "must be true or false"),
        (f'{{{BASE}, "personID": "typo"}}', "personID", "is not a field"),
    ],
)
def test_jsonl_reading_problems_name_the_field(line: str, field: str, phrase: str) -> None:
    [row] = jsonl(line)
    assert phrase in " ".join(row.problems[field])
    assert isinstance(examine(row), InvalidItem)


def test_a_byte_order_mark_before_the_first_row_is_ignored() -> None:
    [row] = jsonl(f"\ufeff{{{BASE}}}\n".encode())
    assert row.problems == {}


def test_invalid_utf8_is_a_problem_of_that_line_only() -> None:
    rows = jsonl(b'{"personId": "\xff"}\n' + f"{{{BASE}}}\n".encode())
    assert rows[0].problems == {"row": ["is not valid UTF-8"]}
    assert rows[1].problems == {}


def test_a_dead_letter_key_is_ignored_so_dead_letter_files_can_be_resent() -> None:
    [row] = jsonl(f'{{{BASE}, "deadLetter": {{"status": 404}}}}')
    assert row.problems == {}
    assert "deadLetter" not in (row.fields or {})


@pytest.mark.parametrize(
    ("fields", "field", "phrase"),
    [
        ({"identifierType": "CARRIER_PIGEON"}, "identifierType", "must be one of"),
        ({"personId": ""}, "personId", "must not be empty"),
        ({"personId": ".."}, "personId", "must not be empty, '.' or '..'"),
        ({"personId": "p" * 257}, "personId", "the maximum is 256"),
        ({"definitionId": "d" * 37}, "definitionId", "the maximum is 36"),
        ({"eventId": "has space"}, "eventId", "must be 1-36 letters"),
        ({"eventId": "e" * 37}, "eventId", "must be 1-36 letters"),
        ({"eventId": ""}, "eventId", "must be 1-36 letters"),
        ({"properties": {"x": "\ud800"}}, "properties", "lone surrogate"),
    ],
)
def test_local_validation_matches_the_client_send_checks(fields: dict[str, Any], field: str, phrase: str) -> None:
    row = {"personId": "crm-1001", "identifierType": "EXTERNAL_ID", "definitionId": "addToCart", **fields}
    [read] = jsonl(json.dumps(row))
    item = examine(read)
    assert isinstance(item, InvalidItem)
    assert phrase in " ".join(item.problems[field])
    assert item.ref == "1"


def test_every_problem_of_a_row_is_reported() -> None:
    problems = event_problems(person_id="", identifier_type="NOPE", definition_id="d" * 40, event_id="bad id")
    assert set(problems) == {"personId", "identifierType", "definitionId", "eventId"}


def test_a_valid_row_without_event_id_is_queued_for_derivation() -> None:
    [row] = jsonl(f"{{{BASE}}}")
    item = examine(row)
    assert isinstance(item, PendingRow)
    assert item.canonical == canonical_row(item.fields)
    [with_id] = jsonl(f'{{{BASE}, "eventId": "mine"}}')
    item = examine(with_id)
    assert isinstance(item, PendingRow)
    assert item.canonical is None


# CSV


def test_csv_typing_rules_for_property_columns() -> None:
    rows = csv_input(
        "personId,identifierType,definitionId,eventId,createPerson,properties.totalCost,properties.transactionId,"
        "properties.fromPromoCampaign,properties.note,properties.code,properties.items,properties.empty\n"
        'crm-1001,EXTERNAL_ID,addToCart,,TRUE,12.5,"""0042""",false,jane@example.com,0042,"[{""itemId"": 1}]",\n'
    )
    [row] = rows
    assert row.problems == {}
    assert row.fields == {
        "personId": "crm-1001",
        "identifierType": "EXTERNAL_ID",
        "definitionId": "addToCart",
        "createPerson": True,
        "properties": {
            "totalCost": 12.5,
            "transactionId": "0042",
            "fromPromoCampaign": False,
            "note": "jane@example.com",
            "code": "0042",
            "items": [{"itemId": 1}],
        },
    }


def test_csv_properties_column_holds_a_json_object() -> None:
    rows = csv_input(
        "personId,identifierType,definitionId,properties\n"
        'crm-1001,EXTERNAL_ID,addToCart,"{""totalCost"": 3}"\n'
        "crm-1001,EXTERNAL_ID,addToCart,\n"
        'crm-1001,EXTERNAL_ID,addToCart,"{""x"": NaN}"\n'
    )
    assert rows[0].fields
    assert rows[0].fields["properties"] == {"totalCost": 3}
    assert rows[1].fields
    assert "properties" not in rows[1].fields
    assert "NaN is not a JSON number" in rows[2].problems["properties"][0]


def test_csv_rows_spanning_lines_and_bad_rows_keep_their_first_line_number() -> None:
    rows = csv_input(
        "personId,identifierType,definitionId,properties.note\n"
        'crm-1001,EXTERNAL_ID,addToCart,"two\nlines"\n'
        "too,few\n"
        "crm-1001,EXTERNAL_ID,addToCart,x\n"
        "crm-1001,EXTERNAL_ID,addToCart,x,extra\n"
        "crm-1001,EXTERNAL_ID,addToCart,x\n"
    )
    assert [row.line for row in rows] == [2, 4, 5, 6, 7]
    assert rows[0].fields
    assert rows[0].fields["properties"] == {"note": "two\nlines"}
    assert rows[1].problems == {"row": ["has 2 fields; the header has 4"]}
    assert rows[3].problems == {"row": ["has 5 fields; the header has 4"]}
    assert not rows[2].problems
    assert not rows[4].problems


def test_csv_create_person_must_be_true_false_or_empty() -> None:
    rows = csv_input("personId,identifierType,definitionId,createPerson\nx,EMAIL,addToCart,yes\nx,EMAIL,addToCart,\n")
    assert rows[0].problems == {"createPerson": ["must be true, false or empty"]}
    assert rows[1].fields
    assert "createPerson" not in rows[1].fields


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("personId,identifierType\n", "the required column 'definitionId' is missing"),
        ("personId,identifierType,definitionId,colour\n", "unknown column 'colour'"),
        ("personId,identifierType,definitionId,personId\n", "column 'personId' appears twice"),
        ("personId,identifierType,definitionId,properties,properties.x\n", "not both"),
        ("personId,identifierType,definitionId,properties.\n", "unknown column 'properties.'"),
        ("\n", "line 1 is empty"),
    ],
)
def test_csv_header_problems_are_input_errors(header: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        read_csv_header(TrackedInput(io.BytesIO(header.encode())))


def test_csv_header_accepts_a_byte_order_mark() -> None:
    header = read_csv_header(TrackedInput(io.BytesIO("\ufeffpersonId,identifierType,definitionId\n".encode())))
    assert header == CsvHeader(["personId", "identifierType", "definitionId"])


def test_the_same_row_in_csv_and_jsonl_gets_the_same_canonical_form() -> None:
    [from_csv] = csv_input(
        "personId,identifierType,definitionId,properties.totalCost,properties.transactionId\n"
        "crm-1001,EXTERNAL_ID,addToCart,12,t-1\n"
    )
    [from_jsonl] = jsonl(f'{{{BASE}, "properties": {{"transactionId": "t-1", "totalCost": 12}}}}')
    assert from_csv.fields is not None
    assert from_jsonl.fields is not None
    assert canonical_row(from_csv.fields) == canonical_row(from_jsonl.fields)


# Input tracking (what the journal records to detect a changed file)


def test_tracked_input_counts_and_hashes_what_was_read_and_can_skip_it_again() -> None:
    data = b"one\ntwo\nthree\n"
    first = TrackedInput(io.BytesIO(data))
    first.readline()
    first.readline()
    again = TrackedInput(io.BytesIO(data))
    assert again.skip(first.bytes, first.lines)
    assert (again.bytes, again.lines, again.digest()) == (8, 2, first.digest())
    assert again.readline() == b"three\n"
    assert not TrackedInput(io.BytesIO(b"one\n")).skip(8, 2)


# Derived eventIds


def test_derived_event_id_follows_the_documented_rule() -> None:
    row = {"personId": "crm-1001", "identifierType": "EXTERNAL_ID", "definitionId": "addToCart"}
    canonical = (
        '{"createPerson":false,"definitionId":"addToCart","identifierType":"EXTERNAL_ID",'
        '"personId":"crm-1001","properties":null}'
    )
    assert canonical_row(row) == canonical
    assert derive_event_id(canonical, 1) == str(uuid.uuid5(NAMESPACE, canonical + "\n1"))
    assert derive_event_id(canonical, 2) != derive_event_id(canonical, 1)
    assert uuid.UUID("8b1e5f4c-3a6d-5c2e-9f71-0d4b2a6c8e13") == NAMESPACE
    assert (
        event_problems(
            person_id="p", identifier_type="EMAIL", definition_id="d", event_id=derive_event_id(canonical, 1)
        )
        == {}
    )


def test_canonical_form_ignores_key_order_and_treats_absent_as_default() -> None:
    a = {"personId": "p", "identifierType": "EMAIL", "definitionId": "d", "properties": {"a": 1, "b": 2}}
    b = {"definitionId": "d", "properties": {"b": 2, "a": 1}, "createPerson": False, "identifierType": "EMAIL"}
    b["personId"] = "p"
    assert canonical_row(a) == canonical_row(b)
    assert canonical_row({**a, "createPerson": True}) != canonical_row(a)
    assert canonical_row({**a, "properties": None}) == canonical_row({k: v for k, v in a.items() if k != "properties"})


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30), st.data())
def test_editing_one_row_changes_no_other_rows_event_id(kinds: list[int], data: st.DataObject) -> None:
    """Ids by the documented rule (occurrence among identical rows): editing row i into a new, distinct row changes
    row i's id and no other row's id. Rows earlier in the file never change; later identical rows renumber only
    when the edited row was one of them."""

    def ids(rows: list[dict[str, Any]]) -> list[str]:
        seen: dict[str, int] = {}
        result = []
        for row in rows:
            canonical = canonical_row(row)
            seen[canonical] = seen.get(canonical, 0) + 1
            result.append(derive_event_id(canonical, seen[canonical]))
        return result

    rows = [{"personId": f"p{k}", "identifierType": "EMAIL", "definitionId": "d"} for k in kinds]
    index = data.draw(st.integers(0, len(rows) - 1))
    edited = [dict(row) for row in rows]
    edited[index]["personId"] = "edited-unique"
    before, after = ids(rows), ids(edited)
    assert len(set(after)) == len(after)
    changed = {i for i in range(len(rows)) if before[i] != after[i]}
    same_kind_later = {i for i in range(index + 1, len(rows)) if rows[i] == rows[index]}
    assert index in changed
    assert changed - {index} <= same_kind_later
