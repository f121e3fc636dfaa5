from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.api_exception import ApiException
from ...models.event_request import EventRequest
from ...models.event_response import EventResponse
from ...models.identifier_type import IdentifierType
from ...types import UNSET, Response, Unset


def _get_kwargs(
    person_id: str,
    definition_id: str,
    *,
    body: EventRequest | Unset = UNSET,
    identifier_type: IdentifierType,
    create_person: bool | Unset = False,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    params: dict[str, Any] = {}

    json_identifier_type = identifier_type.value
    params["identifierType"] = json_identifier_type

    params["createPerson"] = create_person

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/peopleevents/2/persons/{person_id}/definitions/{definition_id}/events".format(
            person_id=quote(str(person_id), safe=""),
            definition_id=quote(str(definition_id), safe=""),
        ),
        "params": params,
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ApiException | EventResponse | None:
    if response.status_code == 201:
        response_201 = EventResponse.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = ApiException.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ApiException.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ApiException.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ApiException.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = ApiException.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ApiException.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = ApiException.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ApiException.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[ApiException | EventResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    person_id: str,
    definition_id: str,
    *,
    client: AuthenticatedClient,
    body: EventRequest | Unset = UNSET,
    identifier_type: IdentifierType,
    create_person: bool | Unset = False,
) -> Response[ApiException | EventResponse]:
    """Send Event

     Use this endpoint to track events that persons perform. Your request must refer to an
    existing person profile and event definition, unless `createPerson` is true.

    Request rate limit: 250 requests / second (per account).

    Args:
        person_id (str):
        definition_id (str):
        identifier_type (IdentifierType): Person's identifier type.
        create_person (bool | Unset):  Default: False.
        body (EventRequest | Unset): The event to record.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiException | EventResponse]
    """

    kwargs = _get_kwargs(
        person_id=person_id,
        definition_id=definition_id,
        body=body,
        identifier_type=identifier_type,
        create_person=create_person,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    person_id: str,
    definition_id: str,
    *,
    client: AuthenticatedClient,
    body: EventRequest | Unset = UNSET,
    identifier_type: IdentifierType,
    create_person: bool | Unset = False,
) -> ApiException | EventResponse | None:
    """Send Event

     Use this endpoint to track events that persons perform. Your request must refer to an
    existing person profile and event definition, unless `createPerson` is true.

    Request rate limit: 250 requests / second (per account).

    Args:
        person_id (str):
        definition_id (str):
        identifier_type (IdentifierType): Person's identifier type.
        create_person (bool | Unset):  Default: False.
        body (EventRequest | Unset): The event to record.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiException | EventResponse
    """

    return sync_detailed(
        person_id=person_id,
        definition_id=definition_id,
        client=client,
        body=body,
        identifier_type=identifier_type,
        create_person=create_person,
    ).parsed


async def asyncio_detailed(
    person_id: str,
    definition_id: str,
    *,
    client: AuthenticatedClient,
    body: EventRequest | Unset = UNSET,
    identifier_type: IdentifierType,
    create_person: bool | Unset = False,
) -> Response[ApiException | EventResponse]:
    """Send Event

     Use this endpoint to track events that persons perform. Your request must refer to an
    existing person profile and event definition, unless `createPerson` is true.

    Request rate limit: 250 requests / second (per account).

    Args:
        person_id (str):
        definition_id (str):
        identifier_type (IdentifierType): Person's identifier type.
        create_person (bool | Unset):  Default: False.
        body (EventRequest | Unset): The event to record.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ApiException | EventResponse]
    """

    kwargs = _get_kwargs(
        person_id=person_id,
        definition_id=definition_id,
        body=body,
        identifier_type=identifier_type,
        create_person=create_person,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    person_id: str,
    definition_id: str,
    *,
    client: AuthenticatedClient,
    body: EventRequest | Unset = UNSET,
    identifier_type: IdentifierType,
    create_person: bool | Unset = False,
) -> ApiException | EventResponse | None:
    """Send Event

     Use this endpoint to track events that persons perform. Your request must refer to an
    existing person profile and event definition, unless `createPerson` is true.

    Request rate limit: 250 requests / second (per account).

    Args:
        person_id (str):
        definition_id (str):
        identifier_type (IdentifierType): Person's identifier type.
        create_person (bool | Unset):  Default: False.
        body (EventRequest | Unset): The event to record.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ApiException | EventResponse
    """

    return (
        await asyncio_detailed(
            person_id=person_id,
            definition_id=definition_id,
            client=client,
            body=body,
            identifier_type=identifier_type,
            create_person=create_person,
        )
    ).parsed
