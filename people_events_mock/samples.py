"""The seed's sample event: the documented request sample for `addToCart`, which every fixture account accepts.

For tests and load generators that need a realistic, valid payload. It equals the `seed` request example of
openapi.yaml (tests/mock/test_fixtures.py checks that).
"""

from __future__ import annotations

import copy
from typing import Any, Final

__all__ = ["SEED_DEFINITION_ID", "seed_properties"]

SEED_DEFINITION_ID: Final = "addToCart"

_SEED_PROPERTIES: Final[dict[str, Any]] = {
    "transactionId": "my-transaction-1",
    "fromPromoCampaign": True,
    "totalCost": 100,
    "itemsInCart": [
        {
            "itemId": 1,
            "price": 25,
            "quantity": 3,
            "inStockSince": "2023-11-17T15:47:50.4136517Z",
            "category": "clothes",
        },
        {"itemId": 2, "price": 25, "quantity": 1, "inStockSince": "2023-12-17T15:47:50.4138054Z", "category": "shoes"},
    ],
}


def seed_properties() -> dict[str, Any]:
    """A fresh copy of the seed sample's `properties` (callers may change it freely)."""
    return copy.deepcopy(_SEED_PROPERTIES)
