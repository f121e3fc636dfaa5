"""``python -m contract_tests.independent_server [--variant NAME] [--port N]``: serve the independent server on
127.0.0.1 until interrupted (its API key is ``independent-key``; its person is EMAIL ``jane.doe@example.com``)."""

from __future__ import annotations

import argparse
import time

from .matrix import API_KEY, NAMED_PERSON, new_service
from .server import serve
from .variants import CORRECT, VARIANTS, variant_named


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m contract_tests.independent_server", description=__doc__)
    parser.add_argument("--variant", default=CORRECT.name, choices=[v.name for v in (CORRECT, *VARIANTS)])
    parser.add_argument("--port", type=int, default=8090)
    arguments = parser.parse_args()
    with serve(new_service(variant_named(arguments.variant)), port=arguments.port) as base_url:
        print(f"{arguments.variant} at {base_url} (key {API_KEY}, person {NAMED_PERSON})", flush=True)
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    main()
