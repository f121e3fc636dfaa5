"""A client library for accessing Infobip People Events - Send Event"""

from ._facade import AsyncPeopleEvents, PeopleEvents
from ._pacing import redis_limiter
from .auth import BasicAuth, BearerToken, IBSSOToken
from .client import AuthenticatedClient, Client
from .exceptions import (
    BadRequest,
    Forbidden,
    NotFound,
    PeopleEventsError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)
from .models import EventMetadata, EventProperties, EventRequest, EventResponse, IdentifierType

__version__ = "3.210.0"

__all__ = (
    "AsyncPeopleEvents",
    "AuthenticatedClient",
    "BadRequest",
    "BasicAuth",
    "BearerToken",
    "Client",
    "EventMetadata",
    "EventProperties",
    "EventRequest",
    "EventResponse",
    "Forbidden",
    "IBSSOToken",
    "IdentifierType",
    "NotFound",
    "PeopleEvents",
    "PeopleEventsError",
    "RateLimited",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "__version__",
    "redis_limiter",
)
