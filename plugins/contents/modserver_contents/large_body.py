"""Large file saves streamed from the request body to disk, never held twice in memory.

A ``PUT`` of a file model (``{"type": "file", "format": "text", "content": "...", ...}``)
is almost all ``content``. Parsing it the usual way holds the body, the parsed string
and the parser's scratch copy at once (3x the body). Here the other fields are parsed
on their own and the content string is left in the body buffer: ``LargeContent`` decodes
it piece by piece straight into the temporary file, so a save peaks near 1x its size.
Bodies of any other shape are parsed normally (``split_content`` returns None).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, BinaryIO

from modserver.api.contents import ContentsError
from modserver.jsonbody import InvalidJSON, loads

#: Bodies from this size on are worth streaming.
LARGE_BODY = 4 * 1024 * 1024
#: Bytes of the JSON string decoded at a time.
_PIECE = 4 * 1024 * 1024
_WHITESPACE = b" \t\r\n"
_SCALAR = re.compile(rb"-?[0-9][0-9.eE+-]*|true|false|null")
_HIGH_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=]")


@dataclass
class LargeContent:
    """The still-encoded JSON string ``body[start:end]`` (between its quotes)."""

    body: bytearray
    start: int
    end: int

    def write_to(self, handle: BinaryIO, fmt: str, api_path: str) -> None:
        """Decode the string piece by piece and write its bytes (``text`` or ``base64``)."""
        carry = ""
        try:
            for piece in self._pieces():
                if fmt == "text":
                    handle.write(piece.encode("utf-8"))
                    continue
                letters = carry + _NOT_BASE64.sub("", piece)
                whole = len(letters) - len(letters) % 4
                handle.write(base64.b64decode(letters[:whole]))
                carry = letters[whole:]
            if carry:
                handle.write(base64.b64decode(carry))
        except InvalidJSON:
            raise ContentsError(400, "Invalid JSON in body of request") from None
        except binascii.Error as exc:
            raise ContentsError(400, f"Encoding error saving {api_path}: {exc}") from None

    def _pieces(self) -> Any:
        view = memoryview(self.body)
        at = self.start
        while at < self.end:
            size = _PIECE
            cut = _cut(self.body, at, min(at + size, self.end), self.end)
            while cut <= at:  # a run of escapes longer than a piece: take a bigger one
                size *= 2
                cut = _cut(self.body, at, min(at + size, self.end), self.end)
            yield loads(b'"' + bytes(view[at:cut]) + b'"')
            at = cut


def _cut(body: bytearray, low: int, high: int, end: int) -> int:
    """A boundary in ``(low, high]`` that splits no escape, surrogate pair or UTF-8 char;
    ``low`` if there is none."""
    if high >= end:
        return end
    cut = high
    while cut > low and body[cut] & 0xC0 == 0x80:
        cut -= 1  # inside a multi-byte UTF-8 character
    last = body.rfind(b"\\", max(low, cut - 12), cut)
    if last != -1:
        # Cut before the run of backslashes holding the last escape: its first
        # backslash starts an escape, so nothing before the cut is left half-read.
        cut = last
        while cut > low and body[cut - 1] == 0x5C:
            cut -= 1
        if cut - 6 >= low and _HIGH_SURROGATE.fullmatch(body, cut - 6, cut):
            cut -= 6  # keep a surrogate pair together
    return max(cut, low)


def _skip_space(body: bytearray, at: int) -> int:
    while at < len(body) and body[at] in _WHITESPACE:
        at += 1
    return at


def _string_end(body: bytearray, at: int) -> int:
    """Index of the quote closing the JSON string whose content starts at ``at``."""
    while True:
        quote = body.find(b'"', at)
        if quote == -1:
            return -1
        backslashes = 0
        while body[quote - 1 - backslashes] == 0x5C:
            backslashes += 1
        if backslashes % 2 == 0:
            return quote
        at = quote + 1


def split_content(body: bytearray) -> tuple[dict[str, Any], LargeContent] | None:
    """``(model without content, content)`` for a flat JSON object with a string
    ``content``; None for any other shape (nested values, repeated keys, not an object)."""
    at = _skip_space(body, 0)
    if at >= len(body) or body[at] != ord("{"):
        return None
    at += 1
    found: tuple[int, int] | None = None
    while True:
        at = _skip_space(body, at)
        if at < len(body) and body[at] == ord("}") and found is None:
            return None
        if at >= len(body) or body[at] != ord('"'):
            return None
        key_end = _string_end(body, at + 1)
        if key_end == -1 or key_end - at > 256:
            return None
        key = bytes(body[at + 1 : key_end])
        at = _skip_space(body, key_end + 1)
        if at >= len(body) or body[at] != ord(":"):
            return None
        at = _skip_space(body, at + 1)
        if at >= len(body):
            return None
        if body[at] == ord('"'):
            value_end = _string_end(body, at + 1)
            if value_end == -1:
                return None
            if key == b"content":
                if found is not None:
                    return None
                found = (at + 1, value_end)
            at = value_end + 1
        else:
            scalar = _SCALAR.match(body, at)
            if scalar is None or key == b"content":
                return None
            at = scalar.end()
        at = _skip_space(body, at)
        if at < len(body) and body[at] == ord(","):
            at += 1
            continue
        if at < len(body) and body[at] == ord("}"):
            break
        return None
    if found is None or _skip_space(body, at + 1) != len(body):
        return None
    start, end = found
    # Everything but the content, with null in its place: small, parsed as usual.
    rest = bytes(body[: start - 1]) + b"null" + bytes(body[end + 1 :])
    try:
        model = loads(rest)
    except InvalidJSON:
        return None
    if not isinstance(model, dict) or model.get("content", 0) is not None:
        return None
    return model, LargeContent(body, start, end)
