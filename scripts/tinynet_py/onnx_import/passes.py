"""Whole-graph rewrites of the ops the translators produced, as TFLite's converter does them.

Fusions: BatchNormalization, Mul/Div by a per-channel constant and Add/Sub of a per-channel
constant (the translators' AFFINE pseudo op) fold into the preceding Conv/Gemm/MatMul (weights
and bias); Relu, Clip(0, 6), Clip(-1, 1) (the RELU, RELU6, RELU_N1_TO_1 pseudo ops) fold into the
preceding op's fused_activation_function when the registry says it has one.  What cannot be
folded is lowered to supported ops: AFFINE becomes a 1x1 DEPTHWISE_CONV_2D, a relu a 1x1
MAX_POOL_2D with that activation.  RESHAPE chains collapse.
"""

import numpy as np

from .. import ops
from ..ir import Op

_RELUS = ("RELU", "RELU6", "RELU_N1_TO_1")
# Pseudo ops a translator may emit and what fuse_and_lower turns them into.
PSEUDO_OPS = {"AFFINE": ("DEPTHWISE_CONV_2D", "RESHAPE"), "RELU": ("MAX_POOL_2D", "RESHAPE"),
              "RELU6": ("MAX_POOL_2D", "RESHAPE"), "RELU_N1_TO_1": ("MAX_POOL_2D", "RESHAPE")}
_FUSE_ACTIVATION_INTO = ops.names(lambda s: s.fuses_activation)   # the op registry's targets
_WEIGHTED = ops.names(lambda s: s.quantize == "weights")


def fuse_and_lower(b, pinned):
    """b.ops with the AFFINE and relu pseudo ops folded into their producer where TFLite's
    converter would and the rest lowered to supported ops; pinned: the graph's input and
    output tensors, which are never fused away."""
    readers = {}
    for op in b.ops:
        for i in op.inputs:
            readers[i] = readers.get(i, 0) + 1
    result = []
    producer = {}

    def sole_producer(index):
        op = producer.get(index)
        if op is None or readers.get(index, 0) != 1 or index in pinned:
            return None
        return op

    def place(op):
        x = op.inputs[0]
        prev = sole_producer(x)
        if op.opcode in _RELUS and prev is not None and prev.opcode in _FUSE_ACTIVATION_INTO \
                and prev.options.get("fused_activation_function") == "NONE":
            prev.options["fused_activation_function"] = op.opcode
            _retarget(prev, op, producer)
            return
        if op.opcode == "AFFINE" and prev is not None and prev.opcode in _WEIGHTED and \
                prev.options["fused_activation_function"] == "NONE":
            _fold_affine(b, prev, op.options["scale"], op.options["shift"])
            _retarget(prev, op, producer)
            return
        first_new = len(b.tensors)
        lowered = _lower(b, op) if op.opcode in _RELUS or op.opcode == "AFFINE" else [op]
        for new in lowered:
            for i in new.inputs:
                if i >= first_new:
                    readers[i] = readers.get(i, 0) + 1
            result.append(new)
            producer[new.outputs[0]] = new

    for op in b.ops:
        tail = None
        prev = sole_producer(op.inputs[0]) if op.inputs else None
        if (op.opcode in _RELUS or op.opcode == "AFFINE") and prev is not None and \
                prev.opcode == "RESHAPE":
            # An element-wise op commutes with a reshape (AFFINE: if the channel axis
            # survives it): run it before, so it can fold into what precedes the reshape.
            src, y = prev.inputs[0], op.outputs[0]
            src_shape, x_shape = b.tensors[src].shape, b.tensors[op.inputs[0]].shape
            if op.opcode != "AFFINE" or (src_shape and x_shape and src_shape[-1] == x_shape[-1]):
                result.remove(prev)
                del producer[prev.outputs[0]]
                tmp = b.tensor(f"{b.tensors[y].name}/unreshaped", src_shape)
                op.inputs, op.outputs = [src], [tmp]
                readers[tmp] = 1
                tail = Op(-1, "RESHAPE", [tmp], [y], {"new_shape": list(b.tensors[y].shape)})
        place(op)
        if tail is not None:
            result.append(tail)
            producer[tail.outputs[0]] = tail
    return _collapse_reshapes(b, result, readers, pinned)


def _collapse_reshapes(b, ops, readers, pinned):
    """RESHAPE(RESHAPE(x)) -> RESHAPE(x); a RESHAPE to the same shape disappears."""
    producer = {}
    result = []
    rename = {}
    for op in ops:
        op.inputs = [rename.get(i, i) for i in op.inputs]
        if op.opcode == "RESHAPE":
            prev = producer.get(op.inputs[0])
            x = op.inputs[0]
            if prev is not None and prev.opcode == "RESHAPE" and readers.get(x, 0) == 1 \
                    and x not in pinned:
                result.remove(prev)
                op.inputs = [prev.inputs[0]]
            src, dst = op.inputs[0], op.outputs[0]
            if b.tensors[src].shape == b.tensors[dst].shape and dst not in pinned:
                rename[dst] = src
                readers[src] = readers.get(src, 0) - 1 + readers.get(dst, 0)
                continue
        result.append(op)
        producer[op.outputs[0]] = op
    return result


def _retarget(prev, op, producer):
    del producer[prev.outputs[0]]
    prev.outputs = [op.outputs[0]]
    producer[op.outputs[0]] = prev


def _fold_affine(b, prev, scale, shift):
    w = b.tensors[prev.inputs[1]]
    b = b.tensors[prev.inputs[2]]
    s = scale.astype(np.float64)
    if prev.opcode == "DEPTHWISE_CONV_2D":
        wd = w.data.astype(np.float64) * s                    # [1, kh, kw, C]
    else:
        wd = w.data.astype(np.float64) * s.reshape((-1,) + (1,) * (w.data.ndim - 1))
    bd = b.data.astype(np.float64) * s + shift.astype(np.float64)
    for t, d in ((w, wd), (b, bd)):
        t.data = d.astype(np.float32)
        t.data.setflags(write=False)


def _lower(b, op):
    """RELU* -> 1x1 MAX_POOL_2D with that activation; AFFINE -> 1x1 DEPTHWISE_CONV_2D."""
    x, y = op.inputs[0], op.outputs[0]
    shape = b.tensors[x].shape
    channels = shape[-1] if shape else 1
    if op.opcode == "AFFINE":
        four = shape if len(shape) == 4 else (1, 1, int(np.prod(shape, dtype=np.int64)) // channels, channels)
    else:
        four = shape if len(shape) == 4 else (1, 1, 1, int(np.prod(shape, dtype=np.int64)))
    ops = []
    name = b.tensors[y].name
    src, dst = x, y
    if four != shape:
        src = b.tensor(f"{name}/in4d", four)
        ops.append(Op(-1, "RESHAPE", [x], [src], {"new_shape": list(four)}))
        dst = b.tensor(f"{name}/out4d", four)
    if op.opcode == "AFFINE":
        wi = b.constant(f"{name}/weights", op.options["scale"].reshape(1, 1, 1, -1))
        bi = b.constant(f"{name}/bias", op.options["shift"])
        ops.append(Op(-1, "DEPTHWISE_CONV_2D", [src, wi, bi], [dst], dict(
            padding="VALID", stride_w=1, stride_h=1, depth_multiplier=1,
            fused_activation_function="NONE", dilation_w_factor=1, dilation_h_factor=1)))
    else:
        ops.append(Op(-1, "MAX_POOL_2D", [src], [dst], dict(
            padding="VALID", stride_w=1, stride_h=1, filter_width=1, filter_height=1,
            fused_activation_function=op.opcode)))
    if four != shape:
        ops.append(Op(-1, "RESHAPE", [dst], [y], {"new_shape": list(shape)}))
    return ops
