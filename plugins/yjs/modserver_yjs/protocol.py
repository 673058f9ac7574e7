"""The y-websocket wire protocol as @jupyter/docprovider speaks it, over pycrdt's codecs.

A message starts with a varuint type: SYNC (y-protocols sync: step 1 / step 2 / update),
AWARENESS (an awareness update as one varuint8array), RAW (jupyter's JSON side channel:
the "save" request and its reply) and QUERY_AWARENESS. The rooms (room.py) decide what to do
with each; this module only reads and writes bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from pycrdt import Decoder, Encoder, YSyncMessageType, create_awareness_message, read_message


class MessageType(IntEnum):
    """The first varuint of every room message."""

    SYNC = 0
    AWARENESS = 1
    RAW = 2  # y-websocket's "auth" slot, which jupyter uses for JSON requests
    QUERY_AWARENESS = 3


class ProtocolError(ValueError):
    """A frame that does not follow the protocol."""


def message_type(message: bytes) -> int:
    """The type of ``message`` (raises ProtocolError for an empty or malformed frame)."""
    if not message:
        raise ProtocolError("empty message")
    try:
        return Decoder(message).read_var_uint()
    except (IndexError, RuntimeError) as exc:
        raise ProtocolError("malformed message") from exc


def sync_kind(message: bytes) -> int:
    """For a SYNC message, its y-protocols kind (``YSyncMessageType``)."""
    if len(message) < 2:
        raise ProtocolError("short sync message")
    return message[1]


def is_document_change(message: bytes) -> bool:
    """True for SYNC step 2 and update messages: those change the document."""
    return sync_kind(message) in (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE)


@dataclass
class RawRequest:
    """A RAW message from a client: ``name`` (e.g. "save") and its request id."""

    name: str
    request_id: int


def read_raw(message: bytes) -> RawRequest:
    """Decode a RAW message ``[2, varstring name, varuint id]``."""
    try:
        decoder = Decoder(message)
        decoder.read_var_uint()
        name = decoder.read_var_string()
        request_id = decoder.read_var_uint() if decoder.length > 0 else 0
    except (IndexError, RuntimeError, UnicodeDecodeError) as exc:
        raise ProtocolError("malformed raw message") from exc
    return RawRequest(name, request_id)


def raw_json(payload: dict[str, Any]) -> bytes:
    """A RAW message carrying ``payload`` as a JSON string (the save reply)."""
    encoder = Encoder()
    encoder.write_var_uint(MessageType.RAW)
    encoder.write_var_string(json.dumps(payload))
    return encoder.to_bytes()


def awareness_update(message: bytes) -> bytes:
    """The awareness update inside an AWARENESS message."""
    try:
        return read_message(message[1:])
    except (IndexError, AssertionError) as exc:
        raise ProtocolError("malformed awareness message") from exc


@dataclass
class AwarenessEntry:
    """One client's state in an awareness update (state None: the client left)."""

    client_id: int
    clock: int
    state: dict[str, Any] | None


def decode_awareness(update: bytes) -> list[AwarenessEntry]:
    """The entries of an awareness update."""
    try:
        decoder = Decoder(update)
        entries = []
        for _ in range(decoder.read_var_uint()):
            client_id = decoder.read_var_uint()
            clock = decoder.read_var_uint()
            text = decoder.read_var_string()
            state = json.loads(text) if text else None
            if state is not None and not isinstance(state, dict):
                raise ProtocolError("an awareness state must be an object or null")
            entries.append(AwarenessEntry(client_id, clock, state))
    except (IndexError, RuntimeError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError("malformed awareness update") from exc
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    """An awareness update of ``entries``."""
    encoder = Encoder()
    encoder.write_var_uint(len(entries))
    for entry in entries:
        encoder.write_var_uint(entry.client_id)
        encoder.write_var_uint(entry.clock)
        text = "null" if entry.state is None else json.dumps(entry.state, separators=(",", ":"))
        encoder.write_var_string(text)
    return encoder.to_bytes()


def awareness_message(update: bytes) -> bytes:
    """An AWARENESS message carrying ``update``."""
    return create_awareness_message(update)
