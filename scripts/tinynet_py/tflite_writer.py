"""Writes a model in tinynet's IR back to a .tflite flatbuffer (schema version 3).

Used by `--save-tflite` (a model quantized or pruned by tinynet can then run on TFLM too, or be
inspected with any TFLite tool) and by examples that train their own float models. Options are
encoded from ops.OPTIONS (the op registry), the same table the reader decodes them with, so a model survives
read -> write -> read unchanged (a test checks it).
"""

import numpy as np

from . import schema
from . import tflite_builder as b
from .ops import OPTIONS
from .errors import TinynetError
from .ir import DTYPES, pack_int4

_PADDING_CODES = {name: code for code, name in schema.PADDINGS.items()}
_ACTIVATION_CODES = {name: code for code, name in schema.ACTIVATIONS.items()}
_OPCODES = {name: code for code, name in enumerate(schema.BUILTIN_OPERATORS)}


def _options_table(op):
    type_code, _, fields = OPTIONS[op.opcode]
    if type_code == 0:
        return 0, None
    values = {}
    for field_id, name, kind, default in fields:
        value = op.options.get(name, default)
        if value is None:
            continue
        if kind == "padding":
            values[f"f{field_id}"] = ("int8", _PADDING_CODES[value] if isinstance(value, str) else int(value))
        elif kind == "activation":
            values[f"f{field_id}"] = ("int8", _ACTIVATION_CODES[value] if isinstance(value, str) else int(value))
        elif kind == "int32[]":
            values[f"f{field_id}"] = ("vec_int32", [int(v) for v in value])
        elif kind == "bool":
            values[f"f{field_id}"] = ("bool", bool(value))
        elif kind == "float32":
            values[f"f{field_id}"] = ("float32", float(value))
        else:
            values[f"f{field_id}"] = (kind, int(value))
    return type_code, b.T(**values)


def write_model(model, description=None):
    """The model as .tflite bytes."""
    buffers = []
    tensors = []
    for t in model.tensors:
        buffer_index = 0
        if t.data is not None:
            if t.int4:
                buffers.append(pack_int4(t.data).tobytes())
            else:
                data = np.ascontiguousarray(t.data, dtype=np.dtype(DTYPES[t.dtype]).newbyteorder("<"))
                buffers.append(data.tobytes())
            buffer_index = len(buffers)          # buffer 0 is the empty one
        scale = t.scale if t.scale.size else None
        tensors.append(b.tensor(t.shape, "int4" if t.int4 else t.dtype, buffer=buffer_index, name=t.name, scale=scale,
                                zero_point=t.zero_point if scale is not None else None,
                                quantized_dimension=t.quantized_dimension))
    opcodes = []
    operators = []
    for op in model.ops:
        if op.opcode not in OPTIONS:
            raise TinynetError(model.path, f"cannot write op {op.index} ({op.opcode}) to .tflite")
        code = _OPCODES[op.opcode]
        if code not in opcodes:
            opcodes.append(code)
        type_code, options = _options_table(op)
        operators.append(b.operator(opcodes.index(code), op.inputs, op.outputs, type_code, options))
    return b.model(tensors, operators, model.inputs, model.outputs, opcodes, buffers,
                   description=description or model.description or "written by tinynet")


def save_model(model, path, description=None):
    from .emit import write_atomically
    write_atomically(path, write_model(model, description))
