"""One function per ONNX operator, registered in TRANSLATORS with the registry ops it emits.

A translator reads its node's inputs through the Importer (imp.act, imp.const, imp.attrs),
appends IR tensors and ops (imp.new_tensor, imp.add_op) and defines its outputs as layout.Value.
Its `targets` are the ops it may emit: registry ops (tests/generator/test_onnx_ops.py checks they
exist and are supported) or passes.PSEUDO_OPS, which fuse_and_lower folds or lowers.  The
importer refuses a translator that emits anything else.  `foldable` operators are evaluated at
import time when all their inputs are constants (shape arithmetic as PyTorch exports it for
x.view(x.size(0), -1)); the `constant_only` one (Shape) only then.
"""

import itertools
from dataclasses import dataclass

import numpy as np

from .layout import NHWC, Value, last_axis_vector, order_index, stored_as, stored_constant

# Ops any translator may emit to store a value in another axis order (layout.stored_as).
LAYOUT_OPS = ("RESHAPE", "TRANSPOSE", "GATHER")
_CLIP_RANGES = {"RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}


@dataclass(frozen=True)
class Translator:
    onnx_op: str
    translate: object            # translate(imp) or None (constant_only)
    targets: tuple               # IR ops it may emit (registry ops or passes.PSEUDO_OPS)
    foldable: bool = False
    constant_only: bool = False


TRANSLATORS = {}


def translates(*onnx_ops, targets=(), foldable=False, constant_only=False):
    def register(fn):
        for name in onnx_ops:
            assert name not in TRANSLATORS, name
            TRANSLATORS[name] = Translator(name, fn, tuple(targets) + LAYOUT_OPS, foldable, constant_only)
        return fn
    return register


def supported_onnx_ops():
    """The ONNX operators (default domain) the importer understands, sorted."""
    return tuple(sorted(TRANSLATORS))


def supported_onnx_ops_text():
    return ", ".join(supported_onnx_ops())


translates("Shape", constant_only=True)(None)


@translates("Constant")
def _constant(imp):
    from onnx import numpy_helper
    a = imp.attrs(imp.node)
    if "value" in a:
        array = numpy_helper.to_array(a["value"])
    elif "value_float" in a:
        array = np.array(a["value_float"], np.float32)
    elif "value_floats" in a:
        array = np.array(a["value_floats"], np.float32)
    elif "value_int" in a:
        array = np.array(a["value_int"], np.int64)
    elif "value_ints" in a:
        array = np.array(a["value_ints"], np.int64)
    else:
        imp.node_fail(f"Constant with attribute {list(a)} is not supported (value, "
                      f"value_float(s), value_int(s))")
    imp.define(Value(array.shape, const=array))


def fold_constant(imp, node):
    """Evaluates a node whose inputs are all constants (Shape: whose input shape is known)."""
    a = imp.attrs(node)
    ins = [imp.input(k, required=False) for k in range(len(node.input))]
    c = [v.const if v is not None else None for v in ins]
    op = node.op_type
    if op == "Shape":
        shape = np.array(ins[0].shape, np.int64)
        result = shape[a.get("start", 0):a.get("end", len(shape))]
    elif op in ("Identity", "Dropout"):
        result = c[0]
    elif op == "Cast":
        from onnx import helper
        result = c[0].astype(helper.tensor_dtype_to_np_dtype(a["to"]))
    elif op == "Gather":
        result = np.take(c[0], c[1].astype(np.int64), axis=a.get("axis", 0))
    elif op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze"):
        result = c[0].reshape(reshape_target(imp, ins[0].shape, a))
    elif op == "Concat":
        result = np.concatenate([x for x in c if x is not None], axis=a["axis"])
    elif op == "Transpose":
        result = c[0].transpose(a.get("perm", list(range(c[0].ndim))[::-1]))
    elif op in ("Add", "Sub", "Mul", "Div"):
        fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}.get(op)
        if op == "Div":
            fn = np.floor_divide if np.issubdtype(c[0].dtype, np.integer) else np.divide
        result = fn(c[0], c[1]).astype(np.result_type(c[0], c[1]))
    else:
        imp.node_fail("cannot evaluate this node at import time")
    result = np.asarray(result)
    imp.values[node.output[0]] = Value(result.shape, const=result)


# -- shape ops ---------------------------------------------------------------------------

def reshape_target(imp, shape, attrs):
    """The ONNX output shape of Reshape / Flatten / Squeeze / Unsqueeze for input `shape`."""
    op = imp.node.op_type
    size = int(np.prod(shape, dtype=np.int64))
    if op == "Flatten":
        axis = attrs.get("axis", 1)
        axis += len(shape) if axis < 0 else 0
        return (int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis:], dtype=np.int64)))
    if op in ("Squeeze", "Unsqueeze"):
        axes = attrs.get("axes")
        if axes is None and len(imp.node.input) > 1 and imp.node.input[1]:
            axes = [int(x) for x in imp.const(1, "axes").reshape(-1)]
        if op == "Squeeze":
            if axes is None:
                return tuple(d for d in shape if d != 1)
            axes = {a + len(shape) if a < 0 else a for a in axes}
            if any(shape[a] != 1 for a in axes):
                imp.node_fail(f"cannot squeeze axes {sorted(axes)} of shape {list(shape)}")
            return tuple(d for i, d in enumerate(shape) if i not in axes)
        if axes is None:
            imp.node_fail("Unsqueeze needs axes")
        rank = len(shape) + len(axes)
        axes = {a + rank if a < 0 else a for a in axes}
        rest = iter(shape)
        return tuple(1 if i in axes else next(rest) for i in range(rank))
    target = [int(x) for x in imp.const(1, "the shape").reshape(-1)]
    if not attrs.get("allowzero", 0):
        target = [shape[i] if d == 0 and i < len(shape) else d for i, d in enumerate(target)]
    if target.count(-1) > 1:
        imp.node_fail(f"shape {target} has more than one -1")
    if -1 in target:
        known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
        if known == 0 or size % known:
            imp.node_fail(f"cannot reshape {list(shape)} to {target}")
        target[target.index(-1)] = size // known
    if int(np.prod(target, dtype=np.int64)) != size or any(d < 0 for d in target):
        imp.node_fail(f"cannot reshape {list(shape)} to {target}")
    return tuple(target)


@translates("Flatten", "Reshape", "Squeeze", "Unsqueeze", targets=("RESHAPE",), foldable=True)
def reshape(imp):
    v = imp.act(0)
    target = reshape_target(imp, v.shape, imp.attrs(imp.node))
    idx = v.flat_index()
    rank = len(target)
    count = int(np.prod(target, dtype=np.int64))
    layout = None
    candidates = [tuple(range(rank))] + ([NHWC] if rank == 4 else []) + \
        (list(itertools.permutations(range(rank))) if rank <= 5 else [])
    for order in candidates:
        if np.array_equal(idx, order_index(target, order)):
            layout = (order, None)
            break
    if layout is None and rank == 2:
        # Rows of a flattened feature map: each row holds its own elements, permuted.
        rows = idx.reshape(target)
        colperm = rows[0].copy()
        if np.array_equal(rows, np.arange(target[0])[:, None] * target[1] + colperm[None, :]):
            layout = ((0, 1), colperm)
    if layout is None:
        # No relabelling keeps the stored order: the data moves to ONNX's order first.
        identity = tuple(range(len(v.shape)))
        v = Value(v.shape, index=stored_as(imp, v, identity, "Reshape"), nonneg=v.nonneg)
        layout = (tuple(range(rank)), None)
    order, colperm = layout
    out = Value(target, order=order, colperm=colperm, nonneg=v.nonneg)
    assert int(np.prod(out.stored_shape, dtype=np.int64)) == count
    if out.stored_shape == v.stored_shape:
        out.index = v.index
    else:
        out.index = imp.new_tensor(imp.out_name(), out.stored_shape, dtype=imp.tensors[v.index].dtype)
        imp.add_op("RESHAPE", [v.index], [out.index], new_shape=list(out.stored_shape))
    imp.define(out)


@translates("Transpose", foldable=True)
def _transpose(imp):
    v = imp.act(0)
    rank = len(v.shape)
    perm = list(imp.attrs(imp.node).get("perm", list(range(rank))[::-1]))
    if sorted(perm) != list(range(rank)):
        imp.node_fail(f"perm {perm} is not a permutation of {rank} axes")
    index = stored_as(imp, v, v.order, "Transpose") if v.colperm is not None else v.index
    inverse = np.argsort(perm)
    order = tuple(int(inverse[a]) for a in v.order)
    out = Value([v.shape[p] for p in perm], index=index, order=order, nonneg=v.nonneg)
    imp.define(out)


@translates("Identity", foldable=True)
def _identity(imp):
    imp.define(imp.act(0))


@translates("Dropout", foldable=True)
def _dropout(imp):
    a = imp.attrs(imp.node)
    if a.get("is_test", 1) == 0 and imp.opset < 7:
        imp.node_fail("Dropout in training mode is not supported")
    if len(imp.node.input) > 2 and imp.node.input[2]:
        mode = imp.const(2, "training_mode")
        if bool(np.asarray(mode).reshape(-1)[0]):
            imp.node_fail("Dropout with training_mode = true is not supported (export the "
                          "model in eval mode)")
    imp.unused_outputs(1)
    imp.define(imp.act(0))


@translates("Concat", targets=("CONCATENATION",), foldable=True)
def _concat(imp):
    a = imp.attrs(imp.node)
    vs = [imp.input(k) for k in range(len(imp.node.input))]
    first = next((v for v in vs if v.const is None), None)
    if first is None or any(v.const is not None for v in vs):
        imp.node_fail("concatenating constants with computed values is not supported")
    rank = len(first.shape)
    axis = a["axis"] + rank if a["axis"] < 0 else a["axis"]
    indices = [stored_as(imp, v, first.order, "Concat needs its inputs in one layout")
               for v in vs]
    shape = list(first.shape)
    shape[axis] = sum(v.shape[axis] for v in vs)
    out = imp.activation_value(shape, first.order, nonneg=all(v.nonneg for v in vs))
    imp.add_op("CONCATENATION", indices, [out.index], axis=first.order.index(axis),
               fused_activation_function="NONE")
    imp.define(out)


@translates("Pad", targets=("PAD", "MIRROR_PAD"))
def _pad(imp):
    a = imp.attrs(imp.node)
    v = imp.act(0)
    mode = a.get("mode", "constant")
    if mode not in ("constant", "reflect"):
        imp.node_fail(f"Pad mode '{mode}' is not supported (constant, reflect)")
    if imp.opset >= 11:
        pads = [int(x) for x in imp.const(1, "pads").reshape(-1)]
        value = imp.const(2, "constant_value", required=False)
        value = 0.0 if value is None else float(np.asarray(value).reshape(-1)[0])
        if len(imp.node.input) > 3 and imp.node.input[3]:
            imp.node_fail("Pad with axes is not supported")
    else:
        pads, value = list(a["pads"]), float(a.get("value", 0.0))
    rank = len(v.shape)
    if len(pads) != 2 * rank or min(pads) < 0:
        imp.node_fail(f"pads {pads} (negative pads or wrong length) are not supported")
    if value != 0.0 and mode == "constant":
        imp.node_fail(f"a pad value of {value} is not supported (0 only)")
    x = stored_as(imp, v, v.order, "Pad")
    stored_pads = [[pads[a_], pads[a_ + rank]] for a_ in v.order]
    shape = [d + pads[i] + pads[i + rank] for i, d in enumerate(v.shape)]
    out = imp.activation_value(shape, v.order, nonneg=v.nonneg)
    p = imp.const_tensor(f"{imp.out_name()}/paddings", np.array(stored_pads, np.int32), "int32",
                         shared=True)
    if mode == "reflect":
        imp.add_op("MIRROR_PAD", [x, p], [out.index], mode=0)      # REFLECT
    else:
        imp.add_op("PAD", [x, p], [out.index])
    imp.define(out)


# -- convolution and pooling -------------------------------------------------------------

def nchw_input(imp, what):
    v = imp.act(0)
    if len(v.shape) != 4:
        imp.node_fail(f"{what} supports 4-D (N, C, H, W) inputs only, got shape {list(v.shape)}")
    return v, stored_as(imp, v, NHWC, f"{what} needs an NCHW input it can read as NHWC")


def onnx_pads(imp, a, in_hw, kernel, strides, dilations):
    """ONNX's (top, left, bottom, right) padding, auto_pad resolved."""
    auto = a.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0, 0, 0, 0]
        for axis in (0, 1):
            out = -(-in_hw[axis] // strides[axis])
            eff = (kernel[axis] - 1) * dilations[axis] + 1
            total = max((out - 1) * strides[axis] + eff - in_hw[axis], 0)
            before = total // 2 if auto == "SAME_UPPER" else total - total // 2
            pads[axis], pads[axis + 2] = before, total - before
        return pads
    if auto == "VALID":
        return [0, 0, 0, 0]
    if auto != "NOTSET":
        imp.node_fail(f"auto_pad '{auto}' is not supported")
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if len(pads) != 4 or min(pads) < 0:
        imp.node_fail(f"pads {pads} are not supported (4 non-negative values for 2-D)")
    return pads


def window(imp, in_hw, kernel, strides, dilations, pads, ceil_mode=False):
    """(output size, TFLite padding modes that give exactly ONNX's windows)."""
    out_hw, modes = [], {"SAME", "VALID"}
    for axis in (0, 1):
        size, k, s, d = in_hw[axis], kernel[axis], strides[axis], dilations[axis]
        before, after = pads[axis], pads[axis + 2]
        eff = (k - 1) * d + 1
        span = size + before + after - eff
        if span < 0:
            imp.node_fail(f"the kernel ({eff}) is larger than the padded input ({size + before + after})")
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + before:
            out -= 1                     # the last window must start inside the input
        out_hw.append(out)
        ok = set()
        if before == 0 and size >= eff and out == (size - eff) // s + 1:
            ok.add("VALID")
        if out == -(-size // s) and before == max((out - 1) * s + eff - size, 0) // 2:
            ok.add("SAME")
        modes &= ok
    return tuple(out_hw), modes


def explicit_pad(imp, x, stored_shape, pads, out_hw, kernel, strides, dilations, name):
    """PAD (zeros) so that a VALID window over the result gives out_hw outputs."""
    after = []
    for axis in (0, 1):
        eff = (kernel[axis] - 1) * dilations[axis] + 1
        need = (out_hw[axis] - 1) * strides[axis] + eff - stored_shape[1 + axis] - pads[axis]
        after.append(max(need, 0))
    padded = (stored_shape[0], stored_shape[1] + pads[0] + after[0],
              stored_shape[2] + pads[1] + after[1], stored_shape[3])
    p = imp.const_tensor(f"{name}/paddings", np.array(
        [[0, 0], [pads[0], after[0]], [pads[1], after[1]], [0, 0]], np.int32), "int32")
    out = imp.new_tensor(f"{name}/padded", padded)
    imp.add_op("PAD", [x, p], [out])
    return out


@translates("Conv", targets=("CONV_2D", "DEPTHWISE_CONV_2D", "PAD"))
def _conv(imp):
    a = imp.attrs(imp.node)
    v, x = nchw_input(imp, "Conv")
    w = np.asarray(imp.const(1, "the weights"), np.float32)
    bias = imp.const(2, "the bias", required=False)
    n, c, h, wd = v.shape
    if w.ndim != 4:
        imp.node_fail(f"only 2-D convolution is supported (weights {list(w.shape)})")
    out_c, in_per_group, kh, kw = w.shape
    group = a.get("group", 1)
    kernel = tuple(a.get("kernel_shape", (kh, kw)))
    strides = tuple(a.get("strides", (1, 1)))
    dilations = tuple(a.get("dilations", (1, 1)))
    if kernel != (kh, kw) or len(strides) != 2 or len(dilations) != 2 or min(strides + dilations) < 1:
        imp.node_fail(f"kernel_shape {list(kernel)}, strides {list(strides)}, dilations "
                      f"{list(dilations)} do not fit weights {list(w.shape)}")
    pads = onnx_pads(imp, a, (h, wd), kernel, strides, dilations)
    out_hw, modes = window(imp, (h, wd), kernel, strides, dilations, pads)
    name = imp.out_name()
    if modes:
        padding = "VALID" if "VALID" in modes else "SAME"
    else:
        x = explicit_pad(imp, x, v.stored_shape, pads, out_hw, kernel, strides, dilations, name)
        padding = "VALID"
    b = np.zeros(out_c, np.float32) if bias is None else np.asarray(bias, np.float32).reshape(-1)
    if b.size != out_c:
        imp.node_fail(f"bias has {b.size} values, expected {out_c}")
    common = dict(padding=padding, stride_w=strides[1], stride_h=strides[0],
                  fused_activation_function="NONE", dilation_w_factor=dilations[1],
                  dilation_h_factor=dilations[0])
    out = imp.activation_value((n, out_c, *out_hw), NHWC)
    if group == 1 and in_per_group == c:
        wi = imp.const_tensor(f"{name}/weights", w.transpose(0, 2, 3, 1))
        bi = imp.const_tensor(f"{name}/bias", b)
        imp.add_op("CONV_2D", [x, wi, bi], [out.index], quantized_bias_type=0, **common)
    elif group == c and in_per_group == 1 and out_c % c == 0:
        wi = imp.const_tensor(f"{name}/weights", w.transpose(1, 2, 3, 0))
        bi = imp.const_tensor(f"{name}/bias", b)
        imp.add_op("DEPTHWISE_CONV_2D", [x, wi, bi], [out.index],
                   depth_multiplier=out_c // c, **common)
    else:
        imp.node_fail(f"grouped convolution with group={group} on {c} input channels is "
                      f"not supported (supported: group=1, or depthwise: group = input "
                      f"channels)")
    imp.define(out)


@translates("MaxPool", targets=("MAX_POOL_2D", "PAD"))
def _maxpool(imp):
    pool(imp, "MAX_POOL_2D")


@translates("AveragePool", targets=("AVERAGE_POOL_2D", "PAD"))
def _averagepool(imp):
    pool(imp, "AVERAGE_POOL_2D")


def pool(imp, opcode):
    a = imp.attrs(imp.node)
    v, x = nchw_input(imp, imp.node.op_type)
    imp.unused_outputs(1)
    n, c, h, wd = v.shape
    kernel = tuple(a.get("kernel_shape", ()))
    strides = tuple(a.get("strides", (1, 1)))
    dilations = tuple(a.get("dilations", (1, 1)))
    if len(kernel) != 2 or len(strides) != 2:
        imp.node_fail(f"only 2-D pooling is supported (kernel_shape {list(kernel)})")
    if dilations != (1, 1):
        imp.node_fail(f"dilations {list(dilations)} are not supported for pooling (1, 1 only)")
    if a.get("storage_order", 0) != 0:
        imp.node_fail("storage_order 1 is not supported")
    ceil_mode = bool(a.get("ceil_mode", 0))
    pads = onnx_pads(imp, a, (h, wd), kernel, strides, dilations)
    out_hw, modes = window(imp, (h, wd), kernel, strides, dilations, pads, ceil_mode)
    include_pad = opcode == "AVERAGE_POOL_2D" and a.get("count_include_pad", 0) and any(pads)
    name = imp.out_name()
    if include_pad:
        if ceil_mode:
            imp.node_fail("AveragePool with count_include_pad=1 and ceil_mode=1 is not supported")
        modes = set()
    if modes:
        padding = "VALID" if "VALID" in modes else "SAME"
    elif opcode == "AVERAGE_POOL_2D" and not include_pad:
        imp.node_fail(f"AveragePool pads {pads} (count_include_pad=0, ceil_mode="
                      f"{int(ceil_mode)}) match neither TFLite's SAME nor VALID padding "
                      f"and padding explicitly would change the averages")
    elif opcode == "MAX_POOL_2D" and not v.nonneg:
        imp.node_fail(f"MaxPool pads {pads} match neither TFLite's SAME nor VALID "
                      f"padding; tinynet pads explicitly (with zeros) only inputs known to "
                      f"be >= 0, e.g. after a Relu")
    else:
        x = explicit_pad(imp, x, v.stored_shape, pads, out_hw, kernel, strides, dilations, name)
        padding = "VALID"
    out = imp.activation_value((n, c, *out_hw), NHWC, nonneg=v.nonneg)
    imp.add_op(opcode, [x], [out.index], padding=padding, stride_w=strides[1],
               stride_h=strides[0], filter_width=kernel[1], filter_height=kernel[0],
               fused_activation_function="NONE")
    imp.define(out)


@translates("GlobalAveragePool", targets=("MEAN",))
def _globalaveragepool(imp):
    v, x = nchw_input(imp, "GlobalAveragePool")
    out = imp.activation_value((v.shape[0], v.shape[1], 1, 1), NHWC, nonneg=v.nonneg)
    axes = imp.const_tensor(f"{imp.out_name()}/axes", np.array([1, 2], np.int32), "int32", shared=True)
    imp.add_op("MEAN", [x, axes], [out.index], keep_dims=True)
    imp.define(out)


@translates("GlobalMaxPool", targets=("MAX_POOL_2D",))
def _globalmaxpool(imp):
    v, x = nchw_input(imp, "GlobalMaxPool")
    out = imp.activation_value((v.shape[0], v.shape[1], 1, 1), NHWC, nonneg=v.nonneg)
    imp.add_op("MAX_POOL_2D", [x], [out.index], padding="VALID", stride_w=1, stride_h=1,
               filter_width=v.shape[3], filter_height=v.shape[2],
               fused_activation_function="NONE")
    imp.define(out)


def without_axes(order, axes):
    """The stored axis order of a value whose ONNX axes `axes` are removed (order renumbered)."""
    kept = [o for o in order if o not in axes]
    renumber = {o: k for k, o in enumerate(sorted(kept))}
    return tuple(renumber[o] for o in kept)


@translates("ReduceMean", "ReduceSum", "ReduceMax", targets=("MEAN", "SUM", "REDUCE_MAX"))
def _reduce(imp):
    opcode = {"ReduceMean": "MEAN", "ReduceSum": "SUM", "ReduceMax": "REDUCE_MAX"}[imp.node.op_type]
    a = imp.attrs(imp.node)
    v = imp.act(0)
    rank = len(v.shape)
    axes = a.get("axes")
    if axes is None and len(imp.node.input) > 1 and imp.node.input[1]:
        axes = [int(x) for x in imp.const(1, "axes").reshape(-1)]
    if not axes:
        if a.get("noop_with_empty_axes", 0):
            imp.define(v)
            return
        axes = list(range(rank))
    axes = sorted({x + rank if x < 0 else x for x in axes})
    keep = bool(a.get("keepdims", 1))
    index = stored_as(imp, v, v.order, imp.node.op_type) if v.colperm is not None else v.index
    stored_axes = [j for j, o in enumerate(v.order) if o in axes]
    if keep:
        shape, order = [1 if i in axes else d for i, d in enumerate(v.shape)], v.order
    else:
        shape = [d for i, d in enumerate(v.shape) if i not in axes]
        order = without_axes(v.order, axes)
    out = imp.activation_value(shape, order, nonneg=v.nonneg)
    ax = imp.const_tensor(f"{imp.out_name()}/axes", np.array(stored_axes, np.int32), "int32",
                          shared=True)
    imp.add_op(opcode, [index, ax], [out.index], keep_dims=keep)
    imp.define(out)


# -- fully connected ---------------------------------------------------------------------

def rows_input(imp, what):
    v = imp.act(0)
    if len(v.shape) != 2:
        imp.node_fail(f"{what} supports 2-D inputs [batch, features] only, got "
                      f"{list(v.shape)} (Flatten first)")
    if v.order != (0, 1):
        x = stored_as(imp, v, (0, 1), what)
        return x, None
    return v.index, v.colperm


def fully_connected(imp, weights, bias, x, colperm, rows):
    """weights [units, in] in ONNX column order."""
    if colperm is not None:
        weights = weights[:, colperm]
    name = imp.out_name()
    units = weights.shape[0]
    wi = imp.const_tensor(f"{name}/weights", weights)
    bi = imp.const_tensor(f"{name}/bias", bias)
    out = imp.activation_value((rows, units), (0, 1))
    imp.add_op("FULLY_CONNECTED", [x, wi, bi], [out.index], fused_activation_function="NONE",
               weights_format=0, keep_num_dims=False, asymmetric_quantize_inputs=False,
               quantized_bias_type=0)
    imp.define(out)


@translates("Gemm", targets=("FULLY_CONNECTED",))
def _gemm(imp):
    a = imp.attrs(imp.node)
    if a.get("transA", 0):
        imp.node_fail("transA=1 is not supported")
    x, colperm = rows_input(imp, "Gemm")
    rows, depth = imp.values[imp.node.input[0]].shape
    b = np.asarray(imp.const(1, "B (the weights)"), np.float64)
    if b.ndim != 2:
        imp.node_fail(f"B must be 2-D, got {list(b.shape)}")
    w = b if a.get("transB", 0) else b.T
    if w.shape[1] != depth:
        imp.node_fail(f"weights {list(w.shape)} (units, inputs) do not fit input depth {depth}")
    w = w * a.get("alpha", 1.0)
    units = w.shape[0]
    c = imp.const(2, "C (the bias)", required=False)
    bias = np.zeros(units)
    if c is not None:
        c = np.asarray(c, np.float64)
        if c.size == 1:
            bias = np.full(units, c.reshape(-1)[0])
        elif c.shape[-1] == units and c.size == units:
            bias = c.reshape(-1)
        else:
            imp.node_fail(f"C of shape {list(c.shape)} is not supported (a scalar or "
                          f"[{units}] / [1, {units}])")
        bias = bias * a.get("beta", 1.0)
    fully_connected(imp, w.astype(np.float32), bias.astype(np.float32), x, colperm, rows)


@translates("MatMul", targets=("FULLY_CONNECTED", "BATCH_MATMUL"))
def _matmul(imp):
    """x @ W with a constant 2-D W and a 2-D x is a FULLY_CONNECTED (W in flash, transposed once
    here); any other product (both computed, as attention's Q K^T, or batched) is a BATCH_MATMUL on
    the operands in ONNX axis order."""
    va, vb = imp.input(0), imp.input(1)
    if vb.const is not None and va.const is None and len(va.shape) == 2:
        x, colperm = rows_input(imp, "MatMul")
        rows, depth = va.shape
        b = np.asarray(vb.const, np.float32)
        if b.ndim != 2 or b.shape[0] != depth:
            imp.node_fail(f"weights {list(b.shape)} do not fit input depth {depth}")
        fully_connected(imp, np.ascontiguousarray(b.T), np.zeros(b.shape[1], np.float32), x, colperm, rows)
        return
    batch_matmul(imp, va, vb)


def batch_matmul(imp, va, vb):
    if va.const is not None and vb.const is not None:
        imp.node_fail("both operands are constants")
    shapes = [tuple(np.shape(v.const)) if v.const is not None else tuple(v.shape) for v in (va, vb)]
    if not all(2 <= len(shape) <= 5 for shape in shapes):
        imp.node_fail(f"operands {list(shapes[0])} and {list(shapes[1])}: BATCH_MATMUL takes ranks 2 to 5 "
                      f"(1-D operands are not supported)")
    (*batch_a, m, k), (*batch_b, k2, n) = shapes
    if k != k2:
        imp.node_fail(f"operands {list(shapes[0])} and {list(shapes[1])} have inner dimensions {k} and {k2}")
    try:
        batch = tuple(np.broadcast_shapes(tuple(batch_a), tuple(batch_b)))
    except ValueError:
        imp.node_fail(f"the batch dimensions of {list(shapes[0])} and {list(shapes[1])} do not broadcast")
    indices = []
    for k_, v in enumerate((va, vb)):
        if v.const is not None:
            indices.append(imp.const_tensor(f"{imp.out_name()}/{'lhs' if k_ == 0 else 'rhs'}",
                                            np.asarray(v.const, np.float32)))
        else:
            indices.append(stored_as(imp, v, tuple(range(len(v.shape))), "MatMul reads its operands in ONNX "
                                     "axis order"))
    shape = batch + (m, n)
    out = imp.activation_value(shape, tuple(range(len(shape))))
    imp.add_op("BATCH_MATMUL", indices, [out.index], adj_x=False, adj_y=False,
               asymmetric_quantize_inputs=False)
    imp.define(out)


# -- element-wise ------------------------------------------------------------------------

def unary(imp, opcode, nonneg=False, **options):
    v = imp.act(0)
    out = imp.activation_value(v.shape, v.order, colperm=v.colperm, nonneg=nonneg)
    imp.add_op(opcode, [v.index], [out.index], **options)
    imp.define(out)


@translates("Relu", targets=("RELU",))
def _relu(imp):
    unary(imp, "RELU", nonneg=True)


@translates("Sigmoid", targets=("LOGISTIC",))
def _sigmoid(imp):
    unary(imp, "LOGISTIC", nonneg=True)


@translates("Tanh", targets=("TANH",))
def _tanh(imp):
    unary(imp, "TANH")


@translates("LeakyRelu", targets=("LEAKY_RELU",))
def _leakyrelu(imp):
    unary(imp, "LEAKY_RELU", alpha=np.float32(imp.attrs(imp.node).get("alpha", 0.01)))


@translates("Clip", targets=("RELU", "RELU6", "RELU_N1_TO_1"))
def _clip(imp):
    a = imp.attrs(imp.node)
    if imp.opset >= 11:
        lo = imp.const(1, "min", required=False)
        hi = imp.const(2, "max", required=False)
        lo = None if lo is None else float(np.asarray(lo).reshape(-1)[0])
        hi = None if hi is None else float(np.asarray(hi).reshape(-1)[0])
    else:
        lo, hi = a.get("min"), a.get("max")
    big = float(np.finfo(np.float32).max)
    lo = None if lo is None or lo <= -big else lo
    hi = None if hi is None or hi >= big else hi
    for opcode, (want_lo, want_hi) in _CLIP_RANGES.items():
        if lo == want_lo and hi == want_hi:
            unary(imp, opcode, nonneg=want_lo >= 0)
            return
    imp.node_fail(f"Clip({lo}, {hi}) is not supported (supported: Clip(0, 6) = Relu6, "
                  f"Clip(0, inf) = Relu, Clip(-1, 1))")


@translates("Softmax", targets=("SOFTMAX",))
def _softmax(imp):
    a = imp.attrs(imp.node)
    v = imp.act(0)
    rank = len(v.shape)
    axis = a.get("axis", -1 if imp.opset >= 13 else 1)
    axis += rank if axis < 0 else 0
    axes = {axis} if imp.opset >= 13 else set(range(axis, rank))
    reduced = {x for x in axes if v.shape[x] > 1}
    last = v.order[-1]
    index = v.index
    if reduced != ({last} if v.shape[last] > 1 else set()) and reduced <= {rank - 1}:
        # Over the last ONNX axis, stored elsewhere: reordered to ONNX's order first.
        index = stored_as(imp, v, tuple(range(rank)), "Softmax")
        v = Value(v.shape, index=index, nonneg=v.nonneg)
        last = rank - 1
    if reduced != ({last} if v.shape[last] > 1 else set()):
        imp.node_fail(f"Softmax over axis {a.get('axis')} of ONNX shape {list(v.shape)} is "
                      f"not over the innermost stored axis (tinynet's SOFTMAX works on the "
                      f"last axis: channels for NCHW maps, features for rows)")
    out = imp.activation_value(v.shape, v.order, colperm=v.colperm, nonneg=True)
    imp.add_op("SOFTMAX", [index], [out.index], beta=np.float32(1.0))
    imp.define(out)


@translates("BatchNormalization", targets=("AFFINE",))
def _batchnormalization(imp):
    a = imp.attrs(imp.node)
    if a.get("training_mode", 0):
        imp.node_fail("BatchNormalization with training_mode=1 is not supported")
    imp.unused_outputs(1)
    v = imp.act(0)
    gamma, beta, mean, var = (np.asarray(imp.const(k, what), np.float64).reshape(-1)
                              for k, what in ((1, "scale"), (2, "B"), (3, "mean"), (4, "var")))
    if len(v.shape) < 2 or any(p.size != v.shape[1] for p in (gamma, beta, mean, var)):
        imp.node_fail(f"parameters do not fit the input's {v.shape[1:2]} channels")
    scale = gamma / np.sqrt(var + a.get("epsilon", 1e-5))
    shift = beta - mean * scale
    shape = [1] * len(v.shape)
    shape[1] = v.shape[1]
    affine(imp, v, scale.reshape(shape), shift.reshape(shape))


def affine(imp, v, scale, shift):
    """y = x * scale + shift with constants broadcast along the stored last axis."""
    s = stored_constant(scale, v)
    t = stored_constant(shift, v)
    s = None if s is None else last_axis_vector(s, v.stored_shape)
    t = None if t is None else last_axis_vector(t, v.stored_shape)
    if s is None or t is None:
        imp.node_fail(f"the constant operand does not vary only along the channels "
                      f"(innermost stored axis) of ONNX shape {list(v.shape)}")
    out = imp.activation_value(v.shape, v.order, colperm=v.colperm)
    imp.add_op("AFFINE", [v.index], [out.index], scale=s, shift=t)
    imp.define(out)


_BINARY = {"Add": "ADD", "Sub": "SUB", "Mul": "MUL", "Div": "DIV", "Max": "MAXIMUM", "Min": "MINIMUM"}


def _binary_op(imp, kind, inputs, like, shape):
    """The registry op of ONNX `kind` on stored tensors `inputs`, output in value `like`'s layout."""
    opcode = _BINARY[kind]
    options = {}
    if opcode in ("ADD", "SUB", "MUL", "DIV"):
        options["fused_activation_function"] = "NONE"
    if opcode in ("ADD", "SUB"):
        options["pot_scale_int16"] = True
    out = imp.activation_value(shape, like.order, colperm=like.colperm)
    imp.add_op(opcode, inputs, [out.index], **options)
    imp.define(out)


def binary(imp, kind):
    va, vb = imp.input(0), imp.input(1)
    if va.const is not None and vb.const is not None:
        imp.node_fail("both operands are constants")
    if va.const is None and vb.const is None:
        try:
            shape = tuple(np.broadcast_shapes(va.shape, vb.shape))
        except ValueError:
            imp.node_fail(f"operands {list(va.shape)} and {list(vb.shape)} do not broadcast")
        if len(va.shape) != len(vb.shape) or (va.shape != vb.shape and (
                va.colperm is not None or vb.colperm is not None)):
            imp.node_fail(f"broadcasting between computed tensors {list(va.shape)} and "
                          f"{list(vb.shape)} of different ranks is not supported")
        xb = stored_as(imp, vb, va.order, f"{kind} needs both operands in one layout") \
            if va.colperm is None else None
        if xb is None:
            if vb.colperm is None or not np.array_equal(va.colperm, vb.colperm):
                imp.node_fail(f"{kind} needs both operands in one layout")
            xb = vb.index
        _binary_op(imp, kind, [va.index, xb], va, shape)
        return
    x, c, const_first = (va, vb.const, False) if va.const is None else (vb, va.const, True)
    c = np.asarray(c, np.float64)
    try:
        if np.broadcast_shapes(c.shape, x.shape) != x.shape:
            raise ValueError
    except ValueError:
        imp.node_fail(f"the constant {list(c.shape)} would broadcast the computed operand "
                      f"{list(x.shape)} to a larger shape (not supported)")
    stored = stored_constant(c, x)
    if kind in ("Max", "Min") or (kind in ("Mul", "Div", "Add", "Sub") and not const_first and
                                  last_axis_vector(stored, x.stored_shape) is None):
        # Not a per-channel affine: the op itself with a constant operand (a
        # tinynet::ConstantTensor in the header).
        ci = imp.const_tensor(f"{imp.out_name()}/constant", stored)
        _binary_op(imp, kind, [ci, x.index] if const_first else [x.index, ci], x, x.shape)
        return
    one, zero = np.ones(()), np.zeros(())
    if kind == "Mul":
        scale, shift = c, zero
    elif kind == "Div":
        if const_first:
            imp.node_fail("dividing a constant by a computed tensor is not supported")
        scale, shift = 1.0 / c, zero
    elif kind == "Sub" and const_first:
        scale, shift = -one, c
    else:
        scale, shift = one, (-c if kind == "Sub" else c)
    affine(imp, x, scale, shift)


@translates("Add", targets=("ADD", "AFFINE"), foldable=True)
def _add(imp):
    binary(imp, "Add")


@translates("Sub", targets=("SUB", "AFFINE"), foldable=True)
def _sub(imp):
    binary(imp, "Sub")


@translates("Mul", targets=("MUL", "AFFINE"), foldable=True)
def _mul(imp):
    binary(imp, "Mul")


@translates("Div", targets=("DIV", "AFFINE"), foldable=True)
def _div(imp):
    binary(imp, "Div")


@translates("Max", targets=("MAXIMUM",))
def _max(imp):
    if len(imp.node.input) != 2:
        imp.node_fail(f"Max of {len(imp.node.input)} inputs is not supported (2 only)")
    binary(imp, "Max")


@translates("Min", targets=("MINIMUM",))
def _min(imp):
    if len(imp.node.input) != 2:
        imp.node_fail(f"Min of {len(imp.node.input)} inputs is not supported (2 only)")
    binary(imp, "Min")


# -- element-wise ops of one input that map one to one --------------------------------------------
_UNARY = {"Abs": ("ABS", True), "Neg": ("NEG", False), "Exp": ("EXP", True), "Log": ("LOG", False),
          "Sqrt": ("SQRT", True), "HardSwish": ("HARD_SWISH", False)}


@translates(*_UNARY, targets=tuple(opcode for opcode, _ in _UNARY.values()))
def _unary(imp):
    opcode, nonneg = _UNARY[imp.node.op_type]
    unary(imp, opcode, nonneg=nonneg)


@translates("Elu", targets=("ELU",))
def _elu(imp):
    alpha = imp.attrs(imp.node).get("alpha", 1.0)
    if alpha != 1.0:
        imp.node_fail(f"Elu with alpha {alpha} is not supported (TFLite's ELU has alpha 1)")
    unary(imp, "ELU")


@translates("PRelu", targets=("PRELU",))
def _prelu(imp):
    v = imp.act(0)
    slope = stored_constant(imp.const(1, "the slope"), v)
    if slope is None:
        imp.node_fail(f"the slope does not broadcast to the input's ONNX shape {list(v.shape)}")
    alpha = imp.const_tensor(f"{imp.out_name()}/alpha", slope)
    out = imp.activation_value(v.shape, v.order, colperm=v.colperm)
    imp.add_op("PRELU", [v.index, alpha], [out.index])
    imp.define(out)


@translates("Cast", targets=(), foldable=True)
def _cast(imp):
    """On constants: evaluated at import time; on a computed (float32) value: to float only."""
    from onnx import TensorProto
    if imp.attrs(imp.node).get("to") != TensorProto.FLOAT:
        imp.node_fail("Cast of a computed value is supported to float32 only (tinynet's ONNX "
                      "models are float32)")
    imp.define(imp.act(0))


@translates("Gather", targets=("GATHER",), foldable=True)
def _gather(imp):
    """Computed data, constant indices (on constants: evaluated at import time)."""
    v = imp.act(0)
    indices = np.asarray(imp.const(1, "the indices"), np.int64)
    rank = len(v.shape)
    axis = imp.attrs(imp.node).get("axis", 0)
    axis += rank if axis < 0 else 0
    if indices.ndim > 1:
        imp.node_fail(f"indices of rank {indices.ndim} are not supported (a scalar or a vector)")
    if np.any(indices < -v.shape[axis]) or np.any(indices >= v.shape[axis]):
        imp.node_fail(f"an index is outside axis {axis} (size {v.shape[axis]})")
    indices = np.where(indices < 0, indices + v.shape[axis], indices)
    x = stored_as(imp, v, v.order, "Gather") if v.colperm is not None else v.index
    if indices.ndim == 1:
        shape = list(v.shape)
        shape[axis] = indices.size
        order = v.order
    else:
        shape = [d for i, d in enumerate(v.shape) if i != axis]
        order = without_axes(v.order, {axis})
    out = imp.activation_value(shape, order, nonneg=v.nonneg)
    ii = imp.const_tensor(f"{imp.out_name()}/indices", indices.astype(np.int32), "int32")
    imp.add_op("GATHER", [x, ii], [out.index], axis=v.order.index(axis), batch_dims=0)
    imp.define(out)


@translates("Split", targets=("SPLIT", "SPLIT_V"))
def _split(imp):
    a = imp.attrs(imp.node)
    v = imp.act(0)
    rank = len(v.shape)
    axis = a.get("axis", 0)
    axis += rank if axis < 0 else 0
    count = len(imp.node.output)
    sizes = a.get("split")
    if sizes is None and len(imp.node.input) > 1 and imp.node.input[1]:
        sizes = [int(x) for x in imp.const(1, "split").reshape(-1)]
    if sizes is None:
        size = v.shape[axis]
        chunk = -(-size // count)
        sizes = [chunk] * (count - 1) + [size - chunk * (count - 1)]
    sizes = [int(x) for x in sizes]
    if len(sizes) != count or sum(sizes) != v.shape[axis] or min(sizes) <= 0:
        imp.node_fail(f"split sizes {sizes} do not divide axis {axis} of {list(v.shape)} into "
                      f"{count} outputs")
    x = stored_as(imp, v, v.order, "Split") if v.colperm is not None else v.index
    outs = []
    for k, size in enumerate(sizes):
        shape = list(v.shape)
        shape[axis] = size
        out = imp.activation_value(shape, v.order, name=imp.out_name(k), nonneg=v.nonneg)
        imp.define(out, k)
        outs.append(out.index)
    stored_axis = np.array([v.order.index(axis)], np.int32)
    ax = imp.const_tensor(f"{imp.out_name()}/axis", stored_axis, "int32", shared=True)
    if len(set(sizes)) == 1:
        imp.add_op("SPLIT", [ax, x], outs, num_splits=count)
    else:
        sz = imp.const_tensor(f"{imp.out_name()}/sizes", np.array(sizes, np.int32), "int32")
        imp.add_op("SPLIT_V", [x, sz, ax], outs, num_splits=count)


@translates("DepthToSpace", "SpaceToDepth", targets=("DEPTH_TO_SPACE", "SPACE_TO_DEPTH"))
def _depth_space(imp):
    """NHWC DEPTH_TO_SPACE / SPACE_TO_DEPTH order a block's pixels as ONNX's DCR mode does."""
    op = imp.node.op_type
    a = imp.attrs(imp.node)
    v, x = nchw_input(imp, op)
    b = int(a.get("blocksize", 0))
    n, c, h, w = v.shape
    if op == "DepthToSpace":
        if a.get("mode", "DCR") != "DCR":
            imp.node_fail(f"mode '{a.get('mode')}' is not supported (DCR only, as TFLite)")
        if b < 1 or c % (b * b):
            imp.node_fail(f"blocksize {b} does not divide the {c} channels into blocks")
        shape, opcode = (n, c // (b * b), h * b, w * b), "DEPTH_TO_SPACE"
    else:
        if b < 1 or h % b or w % b:
            imp.node_fail(f"blocksize {b} does not divide the {h}x{w} input")
        shape, opcode = (n, c * b * b, h // b, w // b), "SPACE_TO_DEPTH"
    out = imp.activation_value(shape, NHWC, nonneg=v.nonneg)
    imp.add_op(opcode, [x], [out.index], block_size=b)
    imp.define(out)


# ONNX (coordinate_transformation_mode, nearest_mode) -> TFLite (align_corners, half_pixel_centers)
_RESIZE_MODES = {("asymmetric", "floor"): (False, False),
                 ("half_pixel", "round_prefer_ceil"): (False, True),
                 ("align_corners", "round_prefer_ceil"): (True, False)}


@translates("Resize", targets=("RESIZE_NEAREST_NEIGHBOR",))
def _resize(imp):
    a = imp.attrs(imp.node)
    v, x = nchw_input(imp, "Resize")
    if imp.opset < 11:
        imp.node_fail("Resize before opset 11 is not supported (re-export with opset 11 or later)")
    if a.get("mode", "nearest") != "nearest":
        imp.node_fail(f"mode '{a.get('mode')}' is not supported (nearest only)")
    if a.get("antialias", 0) or a.get("axes") is not None:
        imp.node_fail("antialias and axes are not supported")
    transform = a.get("coordinate_transformation_mode", "half_pixel")
    nearest = a.get("nearest_mode", "round_prefer_floor")
    scales = imp.const(2, "scales", required=False)
    sizes = imp.const(3, "sizes", required=False)
    n, c, h, w = v.shape
    if sizes is not None and np.asarray(sizes).size:
        out_hw = [int(d) for d in np.asarray(sizes).reshape(-1)[2:]]
        if [int(d) for d in np.asarray(sizes).reshape(-1)[:2]] != [n, c]:
            imp.node_fail("resizing the batch or channel axis is not supported")
    elif scales is not None and np.asarray(scales).size:
        sc = [float(f) for f in np.asarray(scales).reshape(-1)]
        if sc[:2] != [1.0, 1.0]:
            imp.node_fail(f"scales {sc}: resizing the batch or channel axis is not supported")
        out_hw = [int(np.floor(d * f)) for d, f in zip((h, w), sc[2:])]
    else:
        imp.node_fail("Resize needs scales or sizes")
    integer_factors = all(o % i == 0 for o, i in zip(out_hw, (h, w)))
    if transform == "half_pixel" and nearest == "round_prefer_floor" and integer_factors:
        nearest = "round_prefer_ceil"     # no ties when upscaling by whole factors: the same pixels
    if (transform, nearest) not in _RESIZE_MODES:
        imp.node_fail(f"coordinate_transformation_mode '{transform}' with nearest_mode '{nearest}' "
                      f"is not supported (supported: {', '.join(f'{t}/{m}' for t, m in _RESIZE_MODES)}"
                      f"; half_pixel/round_prefer_floor for whole upscaling factors)")
    align, half = _RESIZE_MODES[(transform, nearest)]
    size = imp.const_tensor(f"{imp.out_name()}/size", np.array(out_hw, np.int32), "int32")
    out = imp.activation_value((n, c, *out_hw), NHWC, nonneg=v.nonneg)
    imp.add_op("RESIZE_NEAREST_NEIGHBOR", [x, size], [out.index], align_corners=align,
               half_pixel_centers=half)
    imp.define(out)


@translates("ArgMax", "ArgMin", targets=("ARG_MAX", "ARG_MIN"))
def _arg_max_min(imp):
    """The int64 index of the first largest (smallest) value along an axis, as ONNX's default."""
    a = imp.attrs(imp.node)
    v = imp.act(0)
    if a.get("select_last_index", 0):
        imp.node_fail("select_last_index=1 is not supported (TFLite keeps the first index)")
    rank = len(v.shape)
    axis = a.get("axis", 0)
    axis += rank if axis < 0 else 0
    x = stored_as(imp, v, v.order, imp.node.op_type) if v.colperm is not None else v.index

    def result(order):
        if a.get("keepdims", 1):
            return Value([1 if i == axis else d for i, d in enumerate(v.shape)], order=order)
        return Value([d for i, d in enumerate(v.shape) if i != axis], order=without_axes(order, {axis}))

    out = result(v.order)
    identity = tuple(range(rank))
    if not np.array_equal(out.flat_index(), order_index(out.shape, tuple(range(len(out.shape))))):
        # The indices in ONNX's order (TRANSPOSE moves no int64): the input is reordered instead.
        x = stored_as(imp, Value(v.shape, index=x, order=v.order), identity, imp.node.op_type)
        v = Value(v.shape, index=x, order=identity)
        out = result(identity)
    out.index = imp.new_tensor(imp.out_name(), out.stored_shape, dtype="int64")
    ax = imp.const_tensor(f"{imp.out_name()}/axis", np.array([v.order.index(axis)], np.int32), "int32",
                          shared=True)
    imp.add_op("ARG_MAX" if imp.node.op_type == "ArgMax" else "ARG_MIN", [x, ax], [out.index],
               output_type=4)                                      # INT64
    imp.define(out)
