"""``make fuzz-url URL=<base URL> KEY=<API key> [SEED=<n>]``: our schemathesis configuration (schemathesis.toml: every
check, positive and negative modes, coverage phase) and our own checks (checks.py) against any server.

The schemathesis CLI loads project checks only from the module named by ``SCHEMATHESIS_HOOKS``; this sets it to
``contract_tests.checks`` and runs the CLI in this process, with the key read from the environment (``KEY``, which
make passes to the recipe) so that it never appears in a command line or make's echo. Equivalent by hand:

    SCHEMATHESIS_HOOKS=contract_tests.checks schemathesis run openapi.yaml --url URL -H "Authorization: App KEY"

Unlike a live contract run (``CONTRACT_TARGET=live``), nothing here bounds what is sent: schemathesis sends whatever
it generates, createPerson included. Point it at a test server or a sandbox account, never at production data.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .spec import SPEC_PATH

HOOKS_ENV = "SCHEMATHESIS_HOOKS"
HOOKS = "contract_tests.checks"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make fuzz-url", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server's base URL")
    parser.add_argument("--seed", type=int, help="replay a run")
    arguments, rest = parser.parse_known_args(argv)
    key = os.environ.get("KEY", "")
    if not key:
        parser.error("set KEY (the API key) in the environment: make fuzz-url URL=... KEY=...")
    os.environ[HOOKS_ENV] = HOOKS
    from schemathesis.cli import schemathesis as cli

    args = ["run", str(SPEC_PATH), "--url", arguments.url, "--header", f"Authorization: App {key}", *rest]
    if arguments.seed is not None:
        args += ["--seed", str(arguments.seed)]
    return int(cli.main(args=args, prog_name="schemathesis", standalone_mode=False) or 0)


if __name__ == "__main__":
    sys.exit(main())
