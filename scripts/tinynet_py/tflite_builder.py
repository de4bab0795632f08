"""Writes small TFLite flatbuffers (no dependency on the flatbuffers package): used by the tests
and by examples that produce their own models.

Layout is front to back: each table's vtable sits just before it and every reference
points forward, which the FlatBuffers format allows.  Field ids follow schema.fbs.
"""

import struct

import numpy as np

_FORMATS = {"bool": "<B", "int8": "<b", "uint8": "<B", "int16": "<h", "int32": "<i",
            "uint32": "<I", "int64": "<q", "uint64": "<Q", "float32": "<f"}


class T:
    """A table: fields is {field_id: (kind, value)}."""

    def __init__(self, **fields):
        self.fields = {}
        for key, value in fields.items():
            self.fields[int(key.lstrip("f"))] = value


class _Writer:
    def __init__(self):
        self.out = bytearray()

    def align(self, n, extra=0):
        while (len(self.out) + extra) % n:
            self.out += b"\0"

    def table(self, table):
        ids = sorted(table.fields)
        count = (max(ids) + 1) if ids else 0
        # Table body: soffset, then each field (references as 4-byte placeholders).
        body = bytearray(4)
        offsets, refs = {}, []
        for fid in ids:
            kind, value = table.fields[fid]
            if kind in _FORMATS:
                fmt = _FORMATS[kind]
                size = struct.calcsize(fmt)
                while len(body) % size:
                    body += b"\0"
                offsets[fid] = len(body)
                body += struct.pack(fmt, value)
            else:
                while len(body) % 4:
                    body += b"\0"
                offsets[fid] = len(body)
                refs.append((len(body), kind, value))
                body += b"\0\0\0\0"
        vtable = struct.pack("<HH", 4 + 2 * count, len(body)) + b"".join(
            struct.pack("<H", offsets.get(i, 0)) for i in range(count))
        self.align(4, len(vtable))
        vtable_pos = len(self.out)
        self.out += vtable
        table_pos = len(self.out)
        struct.pack_into("<i", body, 0, table_pos - vtable_pos)
        self.out += body
        for rel, kind, value in refs:
            target = self.value(kind, value)
            struct.pack_into("<I", self.out, table_pos + rel, target - (table_pos + rel))
        return table_pos

    def value(self, kind, value):
        if kind == "table":
            return self.table(value)
        if kind == "string":
            data = value.encode()
            self.align(4)
            pos = len(self.out)
            self.out += struct.pack("<I", len(data)) + data + b"\0"
            return pos
        if kind == "bytes":
            self.align(16, 4)
            pos = len(self.out)
            self.out += struct.pack("<I", len(value)) + bytes(value)
            return pos
        if kind == "tables":
            self.align(4)
            pos = len(self.out)
            self.out += struct.pack("<I", len(value)) + b"\0" * (4 * len(value))
            for i, t in enumerate(value):
                slot = pos + 4 + 4 * i
                target = self.table(t)
                struct.pack_into("<I", self.out, slot, target - slot)
            return pos
        if kind.startswith("vec_"):
            fmt = _FORMATS[kind[4:]]
            size = struct.calcsize(fmt)
            self.align(max(size, 4), 4)
            pos = len(self.out)
            self.out += struct.pack("<I", len(value)) + b"".join(struct.pack(fmt, v) for v in value)
            return pos
        raise ValueError(kind)


def serialize(root, identifier=b"TFL3"):
    w = _Writer()
    w.out += b"\0" * 8
    root_pos = w.table(root)
    struct.pack_into("<I", w.out, 0, root_pos)
    w.out[4:8] = identifier
    return bytes(w.out)


_TYPE_CODES = {"float32": 0, "int32": 2, "uint8": 3, "int64": 4, "bool": 6, "int16": 7,
               "int8": 9, "float64": 10, "int4": 17}


def tensor(shape, dtype, buffer=0, name="t", scale=None, zero_point=None,
           quantized_dimension=0, shape_signature=None, is_variable=False):
    fields = {"f0": ("vec_int32", list(shape)), "f1": ("int8", _TYPE_CODES[dtype]),
              "f2": ("uint32", buffer), "f3": ("string", name)}
    if is_variable:
        fields["f5"] = ("bool", 1)
    if scale is not None:
        scale = list(np.atleast_1d(scale))
        zero_point = list(np.atleast_1d(zero_point if zero_point is not None else [0] * len(scale)))
        fields["f4"] = ("table", T(f2=("vec_float32", [float(s) for s in scale]),
                                   f3=("vec_int64", [int(z) for z in zero_point]),
                                   f6=("int32", quantized_dimension)))
    if shape_signature is not None:
        fields["f7"] = ("vec_int32", list(shape_signature))
    return T(**fields)


def operator(opcode_index, inputs, outputs, options_type=0, options=None):
    fields = {"f0": ("uint32", opcode_index), "f1": ("vec_int32", list(inputs)),
              "f2": ("vec_int32", list(outputs))}
    if options is not None:
        fields["f3"] = ("uint8", options_type)
        fields["f4"] = ("table", options)
    return T(**fields)


def model(tensors, operators, inputs, outputs, opcodes, buffers=(), version=3,
          extra_subgraphs=(), identifier=b"TFL3", description="tinynet test model"):
    """opcodes: builtin codes (ints); buffers: list of bytes (buffer 0, empty, is added)."""
    codes = [T(f0=("int8", min(c, 127)), f2=("int32", 1), f3=("int32", c)) for c in opcodes]
    subgraph = T(f0=("tables", tensors), f1=("vec_int32", list(inputs)),
                 f2=("vec_int32", list(outputs)), f3=("tables", operators),
                 f4=("string", "main"))
    buffer_tables = [T()] + [T(f0=("bytes", bytes(b))) for b in buffers]
    root = T(f0=("uint32", version), f1=("tables", codes),
             f2=("tables", [subgraph] + list(extra_subgraphs)),
             f3=("string", description), f4=("tables", buffer_tables))
    return serialize(root, identifier)
