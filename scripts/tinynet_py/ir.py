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

    @property
    def is_constant(self):
        return self.data is not None

    @property
    def is_quantized(self):
        return self.scale.size > 0

    @property
    def per_channel(self):
        return self.scale.size > 1

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

    def producers(self):
        """tensor index -> index of the op that writes it."""
        result = {}
        for op in self.ops:
            for t in op.outputs:
                result[t] = op.index
        return result
