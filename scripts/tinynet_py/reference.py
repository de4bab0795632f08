"""A numpy reference interpreter, bit-exact with TensorFlow Lite Micro's reference kernels.

Interpreter(model) runs every op's "prepare" once (the constants TFLM computes in
Prepare(): multipliers, shifts, activation ranges, padding) and keeps them in
`interpreter.plans[op_index]` (a dict, also useful to code generators); invoke() then runs
the ops in order.  Integer kernels compute in int64 and wrap to 32 bits where TFLM's
int32 arithmetic would, so results match TFLM bit for bit; float kernels match within
float rounding (TFLM accumulates in float32 in loop order, we in float64).

State: a variable tensor (TFLite `is_variable`: SVDF's activation state, an LSTM's hidden and
cell state) keeps its value from one invoke() to the next; the op's `run` receives it as a
writable array and updates it in place. It starts, and reset() puts it back, at TFLM's
ResetVariableTensor value: the zero point for int8, 0 for every other type.

The kernels live with the rest of each op's description in the op registry (ops/); each
names the TFLM function it follows.  Paths are relative to tensorflow/lite/.
"""

import numpy as np

from . import fixedpoint as fp
from .errors import ModelError
from .ir import DTYPES
from .ops import REGISTRY
from .ops.common import OpContext, require_same_shape


class Interpreter:
    def __init__(self, model):
        self.model = model
        self.plans = {}
        for op in model.ops:
            spec = REGISTRY.get(op.opcode)
            if spec is None:
                raise ModelError(model.path, f"op #{op.index} {op.opcode} is not supported by tinynet")
            try:
                if spec.same_shape:
                    require_same_shape(OpContext(model, op))
                self.plans[op.index] = spec.prepare(OpContext(model, op))
            except fp.MultiplierRangeError as e:
                # The scales of the op's tensors give a ratio the kernels cannot represent.
                raise ModelError(model.path, f"op #{op.index} {op.opcode}: {e} (check the scales "
                                             f"of its input, weight and output tensors)") from None
        self.state = {}
        self.reset()

    def reset(self):
        """Every state tensor back to its initial value (see the module's docstring)."""
        self.state = {i: initial_state(self.model.tensors[i]) for i in self.model.state_tensors()}

    def invoke(self, inputs, keep_all=False):
        """Runs the model on `inputs` (one array per graph input, any shape with the right
        number of elements); returns the graph outputs (or, with keep_all, a dict of every
        tensor index -> value)."""
        model = self.model
        if len(inputs) != len(model.inputs):
            raise ValueError(f"the model has {len(model.inputs)} inputs, got {len(inputs)}")
        values = dict(self.state)      # the same arrays: ops update them in place
        for index, array in zip(model.inputs, inputs):
            t = model.tensors[index]
            array = np.asarray(array)
            if array.size != t.num_elements:
                raise ValueError(f"input tensor '{t.name}' has shape {t.shape} "
                                 f"({t.num_elements} elements), got {array.size} elements")
            values[index] = array.astype(DTYPES[t.dtype], copy=False).reshape(t.shape)
        for op in model.ops:
            args = []
            for i in op.inputs:
                if i < 0:
                    args.append(None)
                elif model.tensors[i].data is not None:
                    args.append(model.tensors[i].data)
                else:
                    args.append(values[i])
            result = REGISTRY[op.opcode].run(self.plans[op.index], *args)
            results = result if len(op.outputs) > 1 else [result]     # several outputs: a list
            for index, value in zip(op.outputs, results):
                out = model.tensors[index]
                values[index] = np.asarray(value).astype(DTYPES[out.dtype], copy=False).reshape(out.shape)
        if keep_all:
            return values
        return [values[i] for i in model.outputs]




def initial_state(t):
    """A state tensor's value after TFLM's ResetVariableTensor: int8 at its zero point, else 0."""
    value = t.zero_point_scalar if t.dtype == "int8" else 0
    return np.full(t.shape, value, dtype=DTYPES[t.dtype])
