"""`people-events send --dry-run` on prepared files, and CSV input sent for real: every problem with its line
number and nothing sent; CSV typing and `properties.<name>` columns as the server stores them."""

from __future__ import annotations

import json
from pathlib import Path

from people_events_client.cli.event_ids import canonical_row, derive_event_id
from people_events_mock.testing import MockProcess
from tests.support.bulk import environment, good_row, run, write_jsonl
from tests.support.mock_admin import send_event_requests, stored_events

GOOD = '{"personId": "crm-1001", "identifierType": "EXTERNAL_ID", "definitionId": "addToCart"}'
BAD_LINES = {
    2: ('{"personId": "crm-1001", "identifierType": "SMOKE_SIGNAL", "definitionId": "addToCart"}', "identifierType"),
    4: ('{"personId": "", "identifierType": "EMAIL", "definitionId": "addToCart"}', "personId"),
    5: ('{"personId": "x", "identifierType": "EMAIL", "definitionId": "' + "d" * 37 + '"}', "definitionId"),
    6: ('{"personId": "x", "identifierType": "EMAIL", "definitionId": "addToCart", "eventId": "a b"}', "eventId"),
    8: ('{"personId": "x", "identifierType": "EMAIL", "definitionId": "addToCart", "properties": {"n": NaN}}', "row"),
    9: ('{"personId": "x", "identifierType": "EMAIL", "definitionId": "addToCart", "properties": "{}"}', "properties"),
    10: ('{"personId": "x", "identifierType": "EMAIL"}', "definitionId"),
    11: ("{not json", "row"),
    12: (
        '{"personId": "x", "identifierType": "EMAIL", "definitionId": "addToCart", "createPerson": 1}',
        "createPerson",
    ),
    14: ('{"personId": "' + "p" * 257 + '", "identifierType": "EMAIL", "definitionId": "addToCart"}', "personId"),
}


def test_dry_run_reports_every_bad_row_with_its_line_and_sends_nothing(mock: MockProcess, tmp_path: Path) -> None:
    lines = [BAD_LINES[n][0] if n in BAD_LINES else GOOD for n in range(1, 16)]
    path = tmp_path / "prepared.jsonl"
    path.write_text("\n".join(lines) + "\n")
    before = send_event_requests(mock.log_path)
    result = run([str(path), "--dry-run"], environment(mock.base_url))

    assert result.returncode == 2
    problems = [line for line in result.stdout.splitlines() if line.startswith(f"{path}:")]
    reported = {int(line.split(":")[1]): line.split(":")[2].strip() for line in problems}
    assert reported == {line: field for line, (_, field) in BAD_LINES.items()}
    assert "dry run: 15 rows, 10 with problems, 5 valid; nothing was sent" in result.stdout
    assert send_event_requests(mock.log_path) == before
    assert not (tmp_path / "prepared.jsonl.journal.sqlite").exists()


def test_dry_run_of_a_clean_file_exits_0_without_credentials(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "clean.jsonl", [good_row(n) for n in range(50)])
    result = run([str(path), "--dry-run"], environment(None, api_key=None))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "50 rows, 0 with problems" in result.stdout


def test_dry_run_of_csv_reports_typing_problems_by_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "personId,identifierType,definitionId,createPerson,properties.totalCost\n"
        "crm-1001,EXTERNAL_ID,addToCart,,1\n"
        "crm-1001,EXTERNAL_ID,addToCart,maybe,1\n"
        "crm-1001,EXTERNAL_ID\n"
        "crm-1001,FAX,addToCart,false,1\n"
    )
    result = run([str(path), "--dry-run"], environment(None, api_key=None))
    assert result.returncode == 2
    assert f"{path}:3: createPerson: must be true, false or empty" in result.stdout
    assert f"{path}:4: row: has 2 fields; the header has 5" in result.stdout
    assert f"{path}:5: identifierType: must be one of" in result.stdout
    assert f"{path}:2:" not in result.stdout


def test_csv_rows_are_typed_as_documented_and_get_the_same_event_ids_as_jsonl(
    mock: MockProcess, tmp_path: Path
) -> None:
    path = tmp_path / "typed.csv"
    path.write_text(
        "personId,identifierType,definitionId,eventId,createPerson,properties.transactionId,properties.totalCost,"
        "properties.fromPromoCampaign,properties.itemsInCart\n"
        'crm-1001,EXTERNAL_ID,addToCart,csv-1,false,"""00123""",12.5,true,"[{""itemId"": 7, ""category"": ""tea""}]"\n'
        "jane.doe@example.com,EMAIL,addToCart,,,plain text,3,,\n"
        'new-person-1,EXTERNAL_ID,addToCart,,TRUE,"multi\nline",1e2,false,\n'
    )
    result = run([str(path)], environment(mock.base_url))
    assert result.returncode == 0, result.stdout + result.stderr

    by_person = {event["person"]["personId"]: event for event in stored_events(mock.base_url)}
    assert by_person["crm-1001"]["eventId"] == "csv-1"
    assert by_person["crm-1001"]["properties"] == {
        "transactionId": "00123",
        "totalCost": 12.5,
        "fromPromoCampaign": True,
        "itemsInCart": [{"itemId": 7, "category": "tea"}],
    }
    assert by_person["jane.doe@example.com"]["properties"] == {"transactionId": "plain text", "totalCost": 3}
    assert by_person["new-person-1"]["properties"] == {
        "transactionId": "multi\nline",
        "totalCost": 100.0,
        "fromPromoCampaign": False,
    }
    jsonl_twin = {
        "personId": "jane.doe@example.com",
        "identifierType": "EMAIL",
        "definitionId": "addToCart",
        "properties": {"transactionId": "plain text", "totalCost": 3},
    }
    assert by_person["jane.doe@example.com"]["eventId"] == derive_event_id(canonical_row(jsonl_twin), 1)


def test_csv_with_a_properties_json_column(mock: MockProcess, tmp_path: Path) -> None:
    path = tmp_path / "json-column.csv"
    properties = json.dumps({"transactionId": "t-9", "totalCost": 9})
    path.write_text(
        "personId,identifierType,definitionId,properties\n"
        f'crm-1001,EXTERNAL_ID,addToCart,"{properties.replace(chr(34), chr(34) * 2)}"\n'
        "crm-1001,EXTERNAL_ID,addToCart,\n"
    )
    result = run([str(path), "--format", "csv", "--journal", str(tmp_path / "j.sqlite")], environment(mock.base_url))
    assert result.returncode == 0, result.stdout + result.stderr
    stored = sorted((event["properties"] or {}).get("transactionId", "") for event in stored_events(mock.base_url))
    assert stored == ["", "t-9"]
