"""MessagePack, only the types Serf's RPC sends and receives (encoded by hand, so that the bench
needs nothing but the standard library)."""

import struct


def pack(value) -> bytes:
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        if 0 <= value < 2**32:
            return b"\xce" + struct.pack(">I", value)
        raise ValueError("integer out of range for this encoder")
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) < 32:
            return bytes([0xA0 | len(raw)]) + raw
        return b"\xda" + struct.pack(">H", len(raw)) + raw
    if isinstance(value, dict):
        if len(value) >= 16:
            raise ValueError("map too large for this encoder")
        out = bytes([0x80 | len(value)])
        for key, item in value.items():
            out += pack(key) + pack(item)
        return out
    raise TypeError(f"cannot encode {type(value)}")


class Incomplete(Exception):
    """The buffer ends inside a value: read more bytes and decode again."""


def unpack(buf: bytes, pos: int = 0):
    """Decodes one value at pos; returns (value, next position)."""

    def take(count):
        nonlocal pos
        if pos + count > len(buf):
            raise Incomplete
        chunk = buf[pos : pos + count]
        pos += count
        return chunk

    def number(fmt):
        return struct.unpack(fmt, take(struct.calcsize(fmt)))[0]

    def items(count):
        nonlocal pos
        out = []
        for _ in range(count):
            item, pos = unpack(buf, pos)
            out.append(item)
        return out

    def mapping(count):
        flat = items(2 * count)
        return {text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}

    byte = take(1)[0]
    if byte <= 0x7F:
        return byte, pos
    if byte >= 0xE0:
        return byte - 0x100, pos
    if 0x80 <= byte <= 0x8F:
        return mapping(byte & 0x0F), pos
    if 0x90 <= byte <= 0x9F:
        return items(byte & 0x0F), pos
    if 0xA0 <= byte <= 0xBF:
        return take(byte & 0x1F).decode(errors="replace"), pos
    simple = {0xC0: None, 0xC2: False, 0xC3: True}
    if byte in simple:
        return simple[byte], pos
    sized = {0xC4: ">B", 0xC5: ">H", 0xC6: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I"}
    if byte in sized:
        raw = take(number(sized[byte]))
        return (raw if byte <= 0xC6 else raw.decode(errors="replace")), pos
    scalars = {0xCA: ">f", 0xCB: ">d", 0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q",
               0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}
    if byte in scalars:
        return number(scalars[byte]), pos
    if byte in (0xDC, 0xDD):
        return items(number(">H" if byte == 0xDC else ">I")), pos
    if byte in (0xDE, 0xDF):
        return mapping(number(">H" if byte == 0xDE else ">I")), pos
    raise ValueError(f"unsupported msgpack type 0x{byte:02x}")


def text(value):
    """A string, whether Serf sent it as str or as bin."""
    return value.decode() if isinstance(value, bytes) else value
