"""tinynet's model IR: what the reader produces and the interpreter and emitter consume.

A Model is one TFLite subgraph, already validated: every op is one tinynet supports,
every tensor has a static shape and a supported dtype.  Option names are TFLite's schema
names in snake_case (schema.fbs), enum values are their schema names as strings.
"""

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

# TFLite TensorType names we accept, as numpy dtypes.
DTYPES = {
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "float32": np.float32, "uint8": np.uint8, "bool": np.bool_,
}


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple
    dtype: str                                  # a key of DTYPES
    scale: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    zero_point: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    quantized_dimension: int = 0
    data: Optional[np.ndarray] = None           # constant contents (shape `shape`), or None
    is_variable: bool = False
    int4: bool = False                          # int8 data in [-8, 7] stored as TFLite INT4 (packed)

    @property
    def is_constant(self):
        return self.data is not None

    @property
    def is_quantized(self):
        return self.scale.size > 0

    @property
    def per_channel(self):
        return self.scale.size > 1

    def real_values(self):
        """The constant data as real numbers (float64): int8 weights times their per-tensor or
        per-channel scales (along quantized_dimension), float data as it is."""
        data = self.data.astype(np.float64)
        if self.dtype == "float32" or not self.is_quantized:
            return data
        shape = [1] * data.ndim
        if self.scale.size > 1:
            shape[self.quantized_dimension] = -1
        return data * self.scale.astype(np.float64).reshape(shape)

    @property
    def num_elements(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def itemsize(self):
        return np.dtype(DTYPES[self.dtype]).itemsize

    @property
    def nbytes(self):
        return self.num_elements * self.itemsize

    @property
    def scale_scalar(self):
        """The per-tensor scale as np.float32 (0.0 when not quantized)."""
        return self.scale[0] if self.scale.size else np.float32(0.0)

    @property
    def zero_point_scalar(self):
        return int(self.zero_point[0]) if self.zero_point.size else 0


def pack_int4(values):
    """TFLite's INT4 layout: two values per byte, the first in the low nibble (uint8 array)."""
    flat = np.asarray(values).reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < -8 or flat.max() > 7):
        raise ValueError("int4 values must lie in [-8, 7]")
    nibbles = (flat & 0xF).astype(np.uint8)
    if nibbles.size % 2:
        nibbles = np.append(nibbles, np.uint8(0))
    return (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8)


def unpack_int4(data, count):
    """The `count` int8 values of TFLite INT4 bytes (low nibble first, two's complement)."""
    raw = np.frombuffer(bytes(data), np.uint8)
    nibbles = np.empty(raw.size * 2, np.int16)
    nibbles[0::2] = raw & 0xF
    nibbles[1::2] = raw >> 4
    nibbles = nibbles[:count]
    return np.where(nibbles >= 8, nibbles - 16, nibbles).astype(np.int8)


@dataclass
class Op:
    index: int
    opcode: str                # BuiltinOperator name, e.g. 'CONV_2D'
    inputs: list               # tensor indices; -1 marks an absent optional input
    outputs: list
    options: dict = field(default_factory=dict)
    version: int = 1           # OperatorCode.version


@dataclass
class Model:
    path: str
    sha256: str
    tensors: list              # list[Tensor], indexed by Tensor.index
    ops: list                  # list[Op] in execution order
    inputs: list               # tensor indices of the graph inputs
    outputs: list              # tensor indices of the graph outputs
    description: str = ""
    schema_version: int = 3
    subgraph_name: str = ""
    # Graph inputs/outputs whose source layout differs from the C++ one: tensor index -> the
    # ONNX (NCHW) shape of a tensor tinynet stores NHWC (see layout.py). Empty for TFLite/sklearn.
    nchw_shapes: dict = field(default_factory=dict)

    def tensor(self, index):
        return self.tensors[index]

    def state_tensors(self):
        """Indices of the state tensors (variable tensors an op reads and updates in place: SVDF's
        activation state, an LSTM's hidden and cell state), each once, in the order the ops read
        them (docs/design.md, "State")."""
        seen = []
        for op in self.ops:
            for i in op.inputs:
                if i >= 0 and self.tensors[i].is_variable and self.tensors[i].data is None and i not in seen:
                    seen.append(i)
        return seen

    def producers(self):
        """tensor index -> index of the op that writes it."""
        result = {}
        for op in self.ops:
            for t in op.outputs:
                result[t] = op.index
        return result


class Builder:
    """The one way the importers (ONNX, scikit-learn) and quantize build a Model: appends tensors
    and ops, numbers them, freezes constant data, shares one tensor between equal parameter
    constants (axes, paddings) asked for with shared=True, and drops unused tensors at the end.

    Weights are never shared: fusion passes and pruning edit a layer's weights in place.
    Names are kept as the model file spells them; they reach a header, the terminal or an error
    message only through safe_text.escape()."""

    def __init__(self, tensors=None, ops=None):
        self.tensors = list(tensors) if tensors is not None else []
        self.ops = list(ops) if ops is not None else []
        self._shared = {}

    @classmethod
    def derive(cls, model):
        """A builder holding copies of model's tensors and ops (the model itself is not changed)."""
        import dataclasses
        return cls([dataclasses.replace(t) for t in model.tensors],
                   [dataclasses.replace(op, inputs=list(op.inputs), outputs=list(op.outputs),
                                        options=dict(op.options)) for op in model.ops])

    def tensor(self, name, shape, data=None, dtype="float32", **quantization):
        """A new tensor (constant when data is given); returns its index."""
        if data is not None:
            data = np.ascontiguousarray(data).astype(DTYPES[dtype]).reshape(tuple(int(d) for d in shape))
            data.setflags(write=False)
        t = Tensor(index=len(self.tensors), name=name, shape=tuple(int(d) for d in shape),
                   dtype=dtype, data=data, **quantization)
        self.tensors.append(t)
        return t.index

    def constant(self, name, data, dtype="float32", shared=False):
        """A constant tensor holding data; with shared=True an equal earlier shared constant
        (same dtype, shape and bytes) is reused."""
        data = np.asarray(data)
        if not shared:
            return self.tensor(name, data.shape, data, dtype)
        key = (dtype, data.shape, np.ascontiguousarray(data).astype(DTYPES[dtype]).tobytes())
        if key not in self._shared:
            self._shared[key] = self.tensor(name, data.shape, data, dtype)
        return self._shared[key]

    def replace_tensor(self, index, **changes):
        import dataclasses
        self.tensors[index] = dataclasses.replace(self.tensors[index], **changes)

    def op(self, opcode, inputs, outputs, **options):
        """Appends an op (numbered when the model is built); returns it."""
        op = Op(index=len(self.ops), opcode=opcode, inputs=list(inputs), outputs=list(outputs),
                options=options)
        self.ops.append(op)
        return op

    def model(self, path, sha256, inputs, outputs, nchw_shapes=None, drop_unused=True, **fields):
        """The Model: ops numbered in order; with drop_unused, tensors nothing refers to are
        dropped and the others renumbered (inputs, outputs and nchw_shapes follow)."""
        used = set(inputs) | set(outputs)
        for op in self.ops:
            used.update(i for i in op.inputs if i >= 0)
            used.update(op.outputs)
        if not drop_unused:
            used.update(t.index for t in self.tensors)
        remap, tensors = {}, []
        for t in self.tensors:
            if t.index in used:
                remap[t.index] = len(tensors)
                t.index = len(tensors)
                tensors.append(t)
        for k, op in enumerate(self.ops):
            op.index = k
            op.inputs = [remap[i] if i >= 0 else -1 for i in op.inputs]
            op.outputs = [remap[i] for i in op.outputs]
        return Model(path=path, sha256=sha256, tensors=tensors, ops=self.ops,
                     inputs=[remap[i] for i in inputs], outputs=[remap[i] for i in outputs],
                     nchw_shapes={remap[i]: s for i, s in (nchw_shapes or {}).items()}, **fields)
