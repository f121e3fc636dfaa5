"""Contains all the data models used in inputs/outputs"""

from .api_exception import ApiException
from .api_request_error import ApiRequestError
from .api_request_error_details import ApiRequestErrorDetails
from .api_request_error_details_validation_errors import ApiRequestErrorDetailsValidationErrors
from .event_metadata import EventMetadata
from .event_properties import EventProperties
from .event_request import EventRequest
from .event_response import EventResponse
from .identifier_type import IdentifierType

__all__ = (
    "ApiException",
    "ApiRequestError",
    "ApiRequestErrorDetails",
    "ApiRequestErrorDetailsValidationErrors",
    "EventMetadata",
    "EventProperties",
    "EventRequest",
    "EventResponse",
    "IdentifierType",
)
