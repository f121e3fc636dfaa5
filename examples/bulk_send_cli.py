"""A backfill with the bulk command: write a JSONL file, check it with --dry-run, send it with `people-events send`,
then look at the dead letters. Running the same command again after a crash sends only what was not confirmed.

    python examples/bulk_send_cli.py [ROWS]

The command is installed with the client (`people-events`, or `python -m people_events_client`); it reads the
credentials from INFOBIP_BASE_URL and INFOBIP_API_KEY (here taken from PEOPLE_EVENTS_BASE_URL / _API_KEY).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BASE_URL = os.environ.get("PEOPLE_EVENTS_BASE_URL", "http://127.0.0.1:8080")
API_KEY = os.environ.get("PEOPLE_EVENTS_API_KEY", "mock-api-key")


def people_events(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "INFOBIP_BASE_URL": BASE_URL, "INFOBIP_API_KEY": API_KEY}
    return subprocess.run(  # noqa: S603 - this interpreter, our own module
        [sys.executable, "-m", "people_events_client", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def main(rows: int = 30) -> int:
    folder = Path(tempfile.mkdtemp(prefix="backfill-"))
    backfill = folder / "backfill.jsonl"
    with backfill.open("w", encoding="utf-8") as out:
        for n in range(rows):
            row = {
                "personId": "jane.doe@example.com",
                "identifierType": "EMAIL",
                "definitionId": "addToCart",
                "properties": {"transactionId": f"backfill-{n}", "totalCost": n},
            }
            out.write(json.dumps(row) + "\n")
        # An unknown person: the server answers 404, and the row goes to the dead letters.
        out.write(json.dumps({"personId": "nobody", "identifierType": "EMAIL", "definitionId": "addToCart"}) + "\n")

    checked = people_events("send", str(backfill), "--dry-run")
    print(checked.stdout.strip())
    sent = people_events("send", str(backfill))
    print(sent.stdout.strip())
    if sent.returncode not in (0, 1):  # 1: some rows are dead letters, the rest were sent
        print(sent.stderr, file=sys.stderr)
        return sent.returncode
    for line in (folder / "backfill.jsonl.rejected.jsonl").read_text(encoding="utf-8").splitlines():
        dead = json.loads(line)
        print(f"dead letter, line {dead['deadLetter']['line']}: HTTP {dead['deadLetter']['status']} {dead['personId']}")
    again = people_events("send", str(backfill))  # the journal knows every row: nothing is sent twice
    print(again.stdout.splitlines()[1].strip())
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(argument) for argument in sys.argv[1:2])))
