"""An independent Send Event server, written from the documentation (openapi.yaml and the seed), separately from the
reference mock: its own code on the standard library's ``http.server``, sharing nothing with ``people_events_mock``.

It exists to test the contract suite itself. The suite runs in live mode (``CONTRACT_TARGET=live``) against it once
in its correct mode, which must pass, and once per single-deviation variant (variants.py), each of which a named
check must catch (matrix.py; ``make mutants`` prints the table, ``contract_tests/test_independent_server.py`` runs it
in ``make test``). It lives in ``contract_tests/`` because it is a fixture of the contract suite, not a product: the
reference mock is what users run.

It binds 127.0.0.1 only.
"""

from .server import IndependentServer, serve
from .variants import CORRECT, VARIANTS, Variant

__all__ = ["CORRECT", "VARIANTS", "IndependentServer", "Variant", "serve"]
