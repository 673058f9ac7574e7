"""Wire codecs agree byte for byte with jupyter_server's own (used here as the oracle)."""

from __future__ import annotations

import json

import pytest
from modserver.api.kernels import KernelMessage
from modserver_kernels.wire import (
    DELIMITER,
    Signer,
    WireError,
    decode_legacy,
    decode_v1,
    encode_legacy,
    encode_v1,
    from_zmq,
    to_zmq,
)

base = pytest.importorskip("jupyter_server.services.kernels.connection.base")
session_module = pytest.importorskip("jupyter_client.session")

HEADER = {"msg_id": "m1", "msg_type": "comm_msg", "session": "s1", "username": "u"}
PARENT = {"msg_id": "p1", "msg_type": "execute_request"}


def message(buffers: list[bytes]) -> KernelMessage:
    return KernelMessage(
        channel="iopub",
        header=HEADER,
        parent_header=PARENT,
        metadata=b'{"m": 1}',
        content=b'{"data": {"x": [1, 2]}}',
        buffers=buffers,
    )


@pytest.mark.parametrize("buffers", [[], [b"\x00\x01", b"", b"big" * 1000]])
def test_v1_frames_match_jupyter_server(buffers: list[bytes]) -> None:
    msg = message(buffers)
    parts = [
        msg.header_bytes(),
        msg.parent_header_bytes(),
        msg.metadata,
        msg.content,
        *buffers,
    ]
    assert encode_v1(msg) == base.serialize_msg_to_ws_v1(parts, "iopub")
    decoded = decode_v1(base.serialize_msg_to_ws_v1(parts, "shell"))
    assert decoded.channel == "shell"
    assert decoded.header == HEADER
    assert decoded.parent_header == PARENT
    assert decoded.content == msg.content
    assert decoded.buffers == buffers


def test_legacy_binary_frames_round_trip_through_jupyter_server() -> None:
    msg = message([b"abc", b"\xff" * 10])
    frame = encode_legacy(msg)
    assert isinstance(frame, bytes)
    theirs = base.deserialize_binary_message(frame)
    assert theirs["header"] == HEADER
    assert theirs["content"] == {"data": {"x": [1, 2]}}
    assert theirs["buffers"][0] == b"abc"
    ours = decode_legacy(base.serialize_binary_message({**theirs, "channel": "shell"}))
    assert ours.buffers == [b"abc", b"\xff" * 10]
    assert json.loads(ours.content) == {"data": {"x": [1, 2]}}


def test_legacy_text_frame_is_the_json_message() -> None:
    frame = encode_legacy(message([]))
    assert isinstance(frame, str)
    data = json.loads(frame)
    assert data["channel"] == "iopub"
    assert data["msg_type"] == "comm_msg"
    assert data["parent_header"] == PARENT
    assert data["buffers"] == []


def test_signatures_are_what_jupyter_client_expects() -> None:
    key = b"secret-key"
    session = session_module.Session(key=key)
    frames = to_zmq(message([b"buf"]), Signer(key))
    assert frames[0] == DELIMITER
    parsed = session.deserialize(frames[1:], content=True)  # raises on a bad signature
    assert parsed["content"] == {"data": {"x": [1, 2]}}
    assert from_zmq("iopub", [b"ident", *frames]).buffers == [b"buf"]


@pytest.mark.parametrize("frame", [b"", b"\x01" * 7, b"\x09" + b"\x00" * 7 + b"x"])
def test_bad_v1_frames_are_refused(frame: bytes) -> None:
    with pytest.raises(WireError):
        decode_v1(frame)


@pytest.mark.parametrize("frame", ["not json", "[1]", '{"no": "header"}', b"\x00\x00"])
def test_bad_legacy_frames_are_refused(frame: str | bytes) -> None:
    with pytest.raises(WireError):
        decode_legacy(frame)


def test_a_message_received_as_views_encodes_and_parses_as_from_bytes() -> None:
    # KernelClient keeps big ZMQ frames as memoryviews of the message, not bytes.
    original = message([b"big" * 30_000, b"\x00"])
    views: list[bytes | memoryview] = [memoryview(f) for f in to_zmq(original, Signer(b"k"))]
    received = from_zmq("iopub", views)
    assert received.header == HEADER and received.parent_header == PARENT
    assert received.content_json() == {"data": {"x": [1, 2]}}
    assert received.metadata_json() == {"m": 1}
    assert received.size == original.size
    assert encode_v1(received) == encode_v1(original)
    assert encode_legacy(received) == encode_legacy(original)
