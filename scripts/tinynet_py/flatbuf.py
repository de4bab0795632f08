"""A small, bounds-checked reader for FlatBuffers binaries.

It knows the FlatBuffers wire format (https://flatbuffers.dev/internals/) but no schema:
callers ask for "field N of this table as an int32" and the like.  Every offset, length
and vtable entry is checked against the buffer before it is used, so a truncated or
corrupt file raises ModelError (naming the file and the schema path being read) instead
of an IndexError, a struct.error or a silently wrong value.

Wire format in brief (all little-endian):
  * the buffer starts with a uoffset (u32) to the root table, then an optional 4-byte
    file identifier;
  * a table starts with an soffset (i32): vtable position = table position - soffset;
  * a vtable is u16 vtable_size, u16 table_size, then one u16 per field: the field's
    offset inside the table, 0 when the field is absent (the schema default applies);
  * a reference field (table, vector, string) holds a uoffset relative to its own position;
  * a vector is a u32 element count followed by the elements; a string is a vector of
    bytes followed by a NUL.
"""

import struct

import numpy as np

from .errors import ModelError

_SCALARS = {
    "bool": ("<B", 1), "int8": ("<b", 1), "uint8": ("<B", 1),
    "int16": ("<h", 2), "uint16": ("<H", 2), "int32": ("<i", 4), "uint32": ("<I", 4),
    "int64": ("<q", 8), "uint64": ("<Q", 8), "float32": ("<f", 4), "float64": ("<d", 8),
}

# Vectors longer than this many elements are refused: no real model needs them and a
# corrupt length must not make us allocate gigabytes.
_MAX_VECTOR_ELEMENTS = 1 << 31


class Buffer:
    """The raw bytes of one FlatBuffers file, with checked reads."""

    def __init__(self, data, path):
        self.data = memoryview(bytes(data))
        self.size = len(self.data)
        self.path = path

    def fail(self, what, detail):
        raise ModelError(self.path, f"corrupt or truncated TFLite file: {what}: {detail}")

    def check_range(self, pos, length, what):
        if pos < 0 or length < 0 or pos + length > self.size:
            self.fail(what, f"bytes [{pos}, {pos + length}) lie outside the file "
                            f"({self.size} bytes)")

    def scalar(self, pos, kind, what):
        fmt, width = _SCALARS[kind]
        self.check_range(pos, width, what)
        return struct.unpack_from(fmt, self.data, pos)[0]

    def deref(self, pos, what):
        """Follows the uoffset stored at pos; returns the absolute target position."""
        target = pos + self.scalar(pos, "uint32", what)
        self.check_range(target, 4, what)
        return target

    def root_table(self, what):
        if self.size < 8:
            self.fail(what, f"the file is only {self.size} bytes long")
        return Table(self, self.deref(0, what + " (root offset)"), what)

    def identifier(self):
        self.check_range(4, 4, "file identifier")
        return bytes(self.data[4:8])


class Table:
    """One table inside a Buffer; `what` is its schema path, used in error messages."""

    def __init__(self, buf, pos, what):
        self.buf = buf
        self.pos = pos
        self.what = what
        vtable = pos - buf.scalar(pos, "int32", what + " (vtable offset)")
        vtable_size = buf.scalar(vtable, "uint16", what + " (vtable size)")
        table_size = buf.scalar(vtable + 2, "uint16", what + " (table size)")
        if vtable_size < 4 or vtable_size % 2:
            buf.fail(what, f"invalid vtable size {vtable_size}")
        buf.check_range(vtable, vtable_size, what + " (vtable)")
        buf.check_range(pos, max(table_size, 4), what + " (table)")
        self.vtable = vtable
        self.field_count = (vtable_size - 4) // 2
        self.table_size = table_size

    def _field_pos(self, field_id, width, name):
        """Absolute position of a field, or None when the field is absent."""
        if field_id >= self.field_count:
            return None
        offset = self.buf.scalar(self.vtable + 4 + 2 * field_id, "uint16", self.what)
        if offset == 0:
            return None
        if offset + width > self.table_size:
            self.buf.fail(f"{self.what}.{name}",
                          f"field offset {offset} exceeds the table size {self.table_size}")
        return self.pos + offset

    def has(self, field_id):
        return self._field_pos(field_id, 0, f"field {field_id}") is not None

    def scalar(self, field_id, kind, default, name):
        pos = self._field_pos(field_id, _SCALARS[kind][1], name)
        if pos is None:
            return default
        return self.buf.scalar(pos, kind, f"{self.what}.{name}")

    def table(self, field_id, name):
        pos = self._field_pos(field_id, 4, name)
        if pos is None:
            return None
        what = f"{self.what}.{name}"
        return Table(self.buf, self.buf.deref(pos, what), what)

    def table_at_union(self, field_id, name):
        """A union value: the table it points to (its type is a separate u8 field)."""
        return self.table(field_id, name)

    def _vector(self, field_id, elem_width, name):
        """(position of first element, element count) or None when absent."""
        pos = self._field_pos(field_id, 4, name)
        if pos is None:
            return None
        what = f"{self.what}.{name}"
        start = self.buf.deref(pos, what)
        count = self.buf.scalar(start, "uint32", what + " (length)")
        if count > _MAX_VECTOR_ELEMENTS:
            self.buf.fail(what, f"vector length {count} is implausible")
        self.buf.check_range(start + 4, count * elem_width, what)
        return start + 4, count

    def vector(self, field_id, kind, name):
        """A vector of scalars as a numpy array (empty array when absent)."""
        fmt, width = _SCALARS[kind]
        found = self._vector(field_id, width, name)
        dtype = np.dtype(fmt)
        if found is None:
            return np.zeros(0, dtype=dtype.newbyteorder("="))
        start, count = found
        raw = np.frombuffer(self.buf.data, dtype=dtype, count=count, offset=start)
        return raw.astype(dtype.newbyteorder("="))

    def vector_present(self, field_id):
        return self._field_pos(field_id, 4, f"field {field_id}") is not None

    def bytes(self, field_id, name):
        """A [ubyte] vector as a read-only memoryview (None when absent)."""
        found = self._vector(field_id, 1, name)
        if found is None:
            return None
        start, count = found
        return self.buf.data[start:start + count]

    def string(self, field_id, name, default=""):
        raw = self.bytes(field_id, name)
        if raw is None:
            return default
        return bytes(raw).decode("utf-8", errors="replace")

    def tables(self, field_id, name):
        """A vector of tables, as a list of Table (empty when absent)."""
        found = self._vector(field_id, 4, name)
        if found is None:
            return []
        start, count = found
        result = []
        for i in range(count):
            what = f"{self.what}.{name}[{i}]"
            result.append(Table(self.buf, self.buf.deref(start + 4 * i, what), what))
        return result
