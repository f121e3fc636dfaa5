from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.event_metadata import EventMetadata
    from ..models.event_properties import EventProperties


T = TypeVar("T", bound="EventResponse")


@_attrs_define
class EventResponse:
    """The event as recorded.

    Attributes:
        event_id (str): Unique identifier of the event; the client's eventId, or one the server assigned.
        definition_id (str): Identifier of the event definition.
        occurred_time (datetime.datetime): When the event was accepted, in UTC.
        properties (EventProperties | None | Unset): The recorded event payload.
        metadata (EventMetadata | None | Unset): Metadata of the event occurrence.
    """

    event_id: str
    definition_id: str
    occurred_time: datetime.datetime
    properties: EventProperties | None | Unset = UNSET
    metadata: EventMetadata | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.event_metadata import EventMetadata  # noqa: PLC0415
        from ..models.event_properties import EventProperties  # noqa: PLC0415

        event_id = self.event_id

        definition_id = self.definition_id

        occurred_time = self.occurred_time.isoformat()

        properties: dict[str, Any] | None | Unset
        if isinstance(self.properties, Unset):
            properties = UNSET
        elif isinstance(self.properties, EventProperties):
            properties = self.properties.to_dict()
        else:
            properties = self.properties

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, EventMetadata):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "eventId": event_id,
                "definitionId": definition_id,
                "occurredTime": occurred_time,
            }
        )
        if properties is not UNSET:
            field_dict["properties"] = properties
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_metadata import EventMetadata  # noqa: PLC0415
        from ..models.event_properties import EventProperties  # noqa: PLC0415

        d = dict(src_dict)
        event_id = d.pop("eventId")

        definition_id = d.pop("definitionId")

        occurred_time = datetime.datetime.fromisoformat(d.pop("occurredTime"))

        def _parse_properties(data: object) -> EventProperties | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                properties_type_0 = EventProperties.from_dict(data)

                return properties_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EventProperties | None | Unset, data)

        properties = _parse_properties(d.pop("properties", UNSET))

        def _parse_metadata(data: object) -> EventMetadata | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = EventMetadata.from_dict(data)

                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EventMetadata | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))

        event_response = cls(
            event_id=event_id,
            definition_id=definition_id,
            occurred_time=occurred_time,
            properties=properties,
            metadata=metadata,
        )

        event_response.additional_properties = d
        return event_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
