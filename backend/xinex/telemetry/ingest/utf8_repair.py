"""Repairing invalid UTF-8 in an OTLP protobuf payload, so one bad string does not cost a batch.

proto3 `string` fields must hold UTF-8 and Python's protobuf refuses the whole message when one
does not; the Collector and some SDKs (Go's among them) forward such strings unchecked. The
receiver would have to answer 400 — which clients do not retry — and every good item in the
batch would be lost. Instead, when a payload fails to parse, it is walked once on the wire
format, guided by the message descriptors: string fields are re-encoded with U+FFFD for the
invalid bytes, nested messages are walked, everything else is copied as is. Only the failure path
pays for this; a payload that is malformed for another reason still fails (RepairFailed).
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

MAX_DEPTH = 64  # deeper than any OTLP message (AnyValue kvlists nest; the parser itself stops at 100)
_STRING, _MESSAGE = FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_MESSAGE


class RepairFailed(ValueError):
    """The payload is malformed beyond invalid UTF-8 (truncated, bad wire type, too deep)."""


def repair_utf8(descriptor: Descriptor, data: bytes) -> tuple[bytes, int]:
    """(payload with every string field valid UTF-8, number of strings repaired)."""
    repaired = [0]
    out = _walk(descriptor, memoryview(data), 0, repaired)
    return out, repaired[0]


def _walk(descriptor: Descriptor, data: memoryview, depth: int, repaired: list[int]) -> bytes:
    if depth > MAX_DEPTH:
        raise RepairFailed("message nesting too deep")
    out = bytearray()
    fields = descriptor.fields_by_number
    i, n = 0, len(data)
    while i < n:
        start = i
        key, i = _varint(data, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, i = _varint(data, i)
            out += data[start:i]
        elif wire_type in (1, 5):
            i += 8 if wire_type == 1 else 4
            if i > n:
                raise RepairFailed("truncated fixed-width field")
            out += data[start:i]
        elif wire_type == 2:
            length, body = _varint(data, i)
            end = body + length
            if end > n:
                raise RepairFailed("truncated length-delimited field")
            payload = data[body:end]
            field = fields.get(number)
            if field is not None and field.type == _STRING:
                text = bytes(payload)
                try:
                    text.decode("utf-8")
                except UnicodeDecodeError:
                    text = text.decode("utf-8", "replace").encode("utf-8")
                    repaired[0] += 1
                new = text
            elif field is not None and field.type == _MESSAGE:
                new = _walk(field.message_type, payload, depth + 1, repaired)
            else:  # bytes, packed numbers, unknown fields: kept as they are
                new = bytes(payload)
            out += data[start:i]  # the tag
            out += _encode_varint(len(new))
            out += new
            i = end
        else:  # groups (3, 4) are not used by OTLP; 6 and 7 do not exist
            raise RepairFailed(f"unsupported wire type {wire_type}")
    return bytes(out)


def _varint(data: memoryview, i: int) -> tuple[int, int]:
    result, shift, n = 0, 0, len(data)
    while True:
        if i >= n or shift > 63:
            raise RepairFailed("truncated or overlong varint")
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i
        shift += 7


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
