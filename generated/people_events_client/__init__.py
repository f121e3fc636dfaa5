"""A client library for accessing Infobip People Events - Send Event"""

from ._facade import AsyncPeopleEvents, PeopleEvents, validate_event
from ._fleet import FleetLimiter, redis_limiter
from .auth import BasicAuth, BearerToken, IBSSOToken
from .client import AuthenticatedClient, Client
from .exceptions import (
    BadRequest,
    ClientClosed,
    DeadlineExceeded,
    Forbidden,
    NotFound,
    PeopleEventsError,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
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
    "ClientClosed",
    "DeadlineExceeded",
    "EventMetadata",
    "EventProperties",
    "EventRequest",
    "EventResponse",
    "FleetLimiter",
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
    "UnexpectedResponse",
    "__version__",
    "redis_limiter",
    "validate_event",
)
