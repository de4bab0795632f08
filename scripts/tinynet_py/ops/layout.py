"""Ops that move values without arithmetic: RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION, PAD, PADV2, STRIDED_SLICE,
TRANSPOSE, PACK, RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, SHAPE,
SPLIT, SPLIT_V, UNPACK."""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .common import require_same_quantization

def prepare_reshape(ctx):
    ctx.require_inputs(1, 2)
    inp, out = ctx.input(0), ctx.output()
    if inp.num_elements != out.num_elements:
        ctx.fail(f"input {inp.shape} and output {out.shape} have different sizes")
    if inp.dtype != out.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    require_same_quantization(ctx, inp, out)
    return {}


def run_reshape(plan, x, shape=None):
    return x


def prepare_squeeze(ctx):
    plan = prepare_reshape(ctx)
    inp, out = ctx.input(0), ctx.output()
    rank = len(inp.shape)
    dims = ctx.op.options.get("squeeze_dims") or [a for a, d in enumerate(inp.shape) if d == 1]
    dims = {d + rank if d < 0 else d for d in dims}
    if any(not 0 <= d < rank or inp.shape[d] != 1 for d in dims):
        ctx.fail(f"squeeze_dims {ctx.op.options.get('squeeze_dims')} must name axes of size 1 of {inp.shape}")
    expected = tuple(d for a, d in enumerate(inp.shape) if a not in dims)
    if expected != tuple(out.shape):
        ctx.fail(f"squeezing {inp.shape} gives {expected}, the output is {out.shape}")
    return plan


def prepare_expand_dims(ctx):
    ctx.require_inputs(2)
    plan = prepare_reshape(ctx)
    inp, axis_t, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_constant(axis_t, "axis")
    axis = int(axis_t.data.reshape(-1)[0])
    rank = len(inp.shape)
    axis = axis + rank + 1 if axis < 0 else axis
    if not 0 <= axis <= rank:
        ctx.fail(f"axis {int(axis_t.data.reshape(-1)[0])} is outside [-{rank + 1}, {rank}]")
    expected = tuple(inp.shape[:axis]) + (1,) + tuple(inp.shape[axis:])
    if expected != tuple(out.shape):
        ctx.fail(f"expanding {inp.shape} at axis {axis} gives {expected}, the output is {out.shape}")
    return plan


def prepare_concatenation(ctx):
    if len(ctx.op.inputs) < 1 or any(i < 0 for i in ctx.op.inputs):
        ctx.fail("expects at least one input")
    out = ctx.output()
    rank = len(out.shape)
    axis = ctx.op.options["axis"]
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < max(rank, 1):
        ctx.fail(f"axis {ctx.op.options['axis']} is outside the output's rank {rank}")
    for k in range(len(ctx.op.inputs)):
        if ctx.input(k).dtype != out.dtype:
            ctx.fail(f"input {k} has dtype {ctx.input(k).dtype}, the output {out.dtype}")
    if ctx.op.options.get("fused_activation_function", "NONE") != "NONE":
        ctx.fail("a fused activation on CONCATENATION is not supported")
    return {"axis": axis}


def run_concatenation(plan, *xs):
    """reference_ops::Concatenation: TFLM copies the raw values (no requantization)."""
    return np.concatenate(xs, axis=plan["axis"])


def _prepare_pad(ctx, with_value):
    ctx.require_inputs(2, 3 if with_value else 2)
    inp, paddings, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_constant(paddings, "paddings")
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    pads = paddings.data.astype(np.int64).reshape(-1, 2)
    if pads.shape[0] != len(inp.shape) or (pads < 0).any():
        ctx.fail(f"paddings {paddings.data.tolist()} do not fit the input's rank {len(inp.shape)}")
    expected = tuple(int(d + p[0] + p[1]) for d, p in zip(inp.shape, pads))
    if expected != out.shape:
        ctx.fail(f"padding input {inp.shape} by {pads.tolist()} gives {expected}, the output is {out.shape}")
    value = ctx.input(2)
    if value is not None:
        ctx.require_constant(value, "constant_values")
        pad_value = value.data.reshape(-1)[0]
    elif out.dtype == "float32":
        pad_value = 0.0
    else:
        pad_value = out.zero_point_scalar            # pad.cc: the output zero point
    return {"pads": [tuple(int(v) for v in p) for p in pads], "value": pad_value}


def prepare_pad(ctx):
    return _prepare_pad(ctx, with_value=False)


def prepare_padv2(ctx):
    return _prepare_pad(ctx, with_value=True)


def run_pad(plan, x, paddings, value=None):
    """reference_ops::Pad."""
    return np.pad(x, plan["pads"], mode="constant", constant_values=plan["value"])


run_padv2 = run_pad


def prepare_strided_slice(ctx):
    ctx.require_inputs(4)
    inp, begin, end, strides, out = (ctx.input(0), ctx.input(1), ctx.input(2), ctx.input(3),
                                     ctx.output())
    require_same_quantization(ctx, inp, out)
    for t, role in ((begin, "begin"), (end, "end"), (strides, "strides")):
        ctx.require_constant(t, role)
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    o = ctx.op.options
    if o["ellipsis_mask"] or o["new_axis_mask"]:
        ctx.fail("ellipsis_mask and new_axis_mask are not supported (TFLM ignores them)")
    rank = len(inp.shape)
    if rank > 5:
        ctx.fail(f"input rank {rank} exceeds 5")
    starts = [int(v) for v in begin.data.reshape(-1)]
    stops = [int(v) for v in end.data.reshape(-1)]
    steps = [int(v) for v in strides.data.reshape(-1)]
    if not len(starts) == len(stops) == len(steps) <= rank:
        ctx.fail(f"begin, end and strides must have equal lengths <= rank {rank}")
    if 0 in steps:
        ctx.fail("stride value has to be non-zero")
    # StridedSlicePadIndices (internal/strided_slice_logic.h): pad at the front to 5-D.
    pad = 5 - len(starts)
    shape5 = (1,) * (5 - rank) + tuple(inp.shape)
    starts, stops, steps = [0] * pad + starts, [1] * pad + stops, [1] * pad + steps
    begin_mask = (o["begin_mask"] << pad) | ((1 << pad) - 1)
    end_mask = (o["end_mask"] << pad) | ((1 << pad) - 1)
    shrink = o["shrink_axis_mask"] << pad
    offset = o.get("offset", False)
    # The input is padded to 5-D as ExtendedShape(5, ...) does: leading 1s.  The indices
    # were padded by their own count, which matches when len(begin) == rank.
    if len(begin.data.reshape(-1)) != rank:
        ctx.fail(f"begin has {begin.num_elements} entries, the input rank is {rank}")
    indices = []
    for axis in range(5):
        size, stride = shape5[axis], steps[axis]
        # StridedSliceStartForAxis
        start = starts[axis]
        if start < 0:
            start += size
        start = min(max(start, 0), size) if stride > 0 else min(max(start, -1), size - 1)
        if begin_mask & (1 << axis):
            start = 0 if stride > 0 else size - 1
        # StridedSliceEndForAxis
        if shrink & (1 << axis):
            stop = start if start >= size else start + 1
        else:
            stop = stops[axis] + (start if offset else 0)
            if stop < 0:
                stop += size
            stop = min(max(stop, 0), size) if stride > 0 else min(max(stop, -1), size - 1)
            if end_mask & (1 << axis):
                stop = size if stride > 0 else -1
        indices.append(range(start, stop, stride))
    count = int(np.prod([len(i) for i in indices]))
    if count != out.num_elements:
        ctx.fail(f"the slice selects {count} elements, the output {out.shape} holds {out.num_elements}")
    # The plan the emitter writes too: per 5-D axis, the first index, the step and the count.
    return {"shape5": shape5, "rank": rank, "start": [i.start for i in indices],
            "stride": [i.step for i in indices], "count": [len(i) for i in indices],
            "indices": [np.array(i, np.int64) for i in indices]}


def run_strided_slice(plan, x, begin, end, strides):
    """reference_ops::StridedSlice."""
    return x.reshape(plan["shape5"])[np.ix_(*plan["indices"])]




def prepare_transpose(ctx):
    ctx.require_inputs(2)
    inp, perm_t, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_constant(perm_t, "perm")
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    rank = len(inp.shape)
    if not 1 <= rank <= 6:
        ctx.fail(f"input rank {rank}: TFLM transposes tensors of rank 1 to 6")
    perm = [int(v) for v in perm_t.data.reshape(-1)]
    if sorted(perm) != list(range(rank)):
        ctx.fail(f"perm {perm} is not a permutation of the input's {rank} axes")
    expected = tuple(inp.shape[p] for p in perm)
    if expected != tuple(out.shape):
        ctx.fail(f"transposing {inp.shape} by {perm} gives {expected}, the output is {out.shape}")
    # Values are copied as they are (TFLM does not requantize); no copy at all when the axes
    # longer than 1 keep their order.
    moved = [p for p in perm if inp.shape[p] != 1]
    return {"perm": perm, "alias": moved == sorted(moved)}


def run_transpose(plan, x, perm):
    """reference_ops::Transpose (internal/reference/transpose.h)."""
    return np.transpose(x, plan["perm"])


def prepare_pack(ctx):
    op = ctx.op
    if not op.inputs or any(i < 0 for i in op.inputs) or len(op.outputs) != 1:
        ctx.fail(f"expects at least one input and 1 output, has {op.inputs} and {op.outputs}")
    out = ctx.output()
    first = ctx.input(0)
    ctx.require_dtypes(out, ("int8", "int16", "int32", "float32"), "output")
    count = len(op.inputs)
    if op.options.get("values_count", count) != count:
        ctx.fail(f"values_count {op.options['values_count']} differs from its {count} inputs")
    rank = len(out.shape)
    axis = op.options.get("axis", 0)
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        ctx.fail(f"axis {op.options.get('axis', 0)} is outside the output's rank {rank}")
    for k in range(count):
        t = ctx.input(k)
        if t.dtype != out.dtype or tuple(t.shape) != tuple(first.shape):
            ctx.fail(f"input {k} is {t.dtype} {t.shape}; every input must be {out.dtype} {first.shape}")
    expected = tuple(first.shape[:axis]) + (count,) + tuple(first.shape[axis:])
    if expected != tuple(out.shape):
        ctx.fail(f"packing {count} inputs {first.shape} on axis {axis} gives {expected}, the output is {out.shape}")
    return {"axis": axis}


def run_pack(plan, *xs):
    """reference PackImpl (micro/kernels/pack.cc): values copied as they are."""
    return np.stack(xs, axis=plan["axis"])


def _resize_scale(out_size, in_size, align_corners):
    """The float32 input step per output step of both resize ops (GetNearestNeighbor's and
    ResizeBilinear's height_scale / width_scale)."""
    f32 = np.float32
    if align_corners and out_size > 1:
        return f32(in_size - 1) / f32(out_size - 1)
    return f32(in_size) / f32(out_size)


def _nearest_neighbor(out_size, in_size, align_corners, half_pixel_centers):
    """GetNearestNeighbor (internal/reference/resize_nearest_neighbor.h) for every output index,
    in float32 as TFLM computes it."""
    f32 = np.float32
    scale = _resize_scale(out_size, in_size, align_corners)
    offset = f32(0.5) if half_pixel_centers else f32(0.0)
    index = []
    for i in range(out_size):
        value = f32(f32(i) + offset) * scale
        picked = int(fp.tflite_round(float(value))) if align_corners else int(np.floor(value))
        picked = min(picked, in_size - 1)
        if half_pixel_centers:
            picked = max(0, picked)
        index.append(picked)
    return index


def _prepare_resize(ctx, dtypes):
    """What both resize ops check: a 4-D input, a constant size [height, width] that gives the
    output's shape, the same type out as in (the values are not requantized)."""
    ctx.require_inputs(2)
    inp, size, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_constant(size, "size")
    ctx.require_dtypes(inp, dtypes, "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    if len(inp.shape) != 4 or len(out.shape) != 4:
        ctx.fail(f"expects 4-D (NHWC) input and output, got {inp.shape} and {out.shape}")
    if min(inp.shape) <= 0 or min(out.shape) <= 0:
        ctx.fail(f"empty tensors are not supported (input {inp.shape}, output {out.shape})")
    new_size = [int(v) for v in size.data.reshape(-1)]
    expected = (inp.shape[0], *new_size, inp.shape[3]) if len(new_size) == 2 else None
    if expected != tuple(out.shape):
        ctx.fail(f"size {new_size} does not give the output {out.shape} from the input {inp.shape}")
    o = ctx.op.options
    return inp, out, bool(o.get("align_corners")), bool(o.get("half_pixel_centers"))


def prepare_resize_nearest_neighbor(ctx):
    inp, out, align, half = _prepare_resize(ctx, ("int8", "int16", "float32"))
    return {"rows": _nearest_neighbor(out.shape[1], inp.shape[1], align, half),
            "cols": _nearest_neighbor(out.shape[2], inp.shape[2], align, half)}


def run_resize_nearest_neighbor(plan, x, size):
    """reference_ops::ResizeNearestNeighbor: values copied from the picked rows and columns."""
    return x[:, plan["rows"]][:, :, plan["cols"]]


def _bilinear_axis(out_size, in_size, align_corners, half_pixel_centers, integer):
    """For every output index along one axis: the two input indices it reads and the distance
    past the lower one.  integer: ComputeInterpolationValuesInteger (distances in 1/1024, the
    scale rounded to 1/1024 first); else ComputeInterpolationValues in float32
    (internal/reference/resize_bilinear.h)."""
    f32 = np.float32
    lower, upper, fraction = [], [], []
    if integer:
        if align_corners and out_size > 1:
            scale = (1024 * (in_size - 1) + (out_size - 1) // 2) // (out_size - 1)
        else:
            scale = (1024 * in_size + out_size // 2) // out_size
    else:
        scale = _resize_scale(out_size, in_size, align_corners)
    for i in range(out_size):
        if integer:
            value = i * scale + scale // 2 - 512 if half_pixel_centers else i * scale
            trunc = lambda v: -(-v // 1024) if v < 0 else v // 1024     # C's division
            lo, hi = max(trunc(value), 0), min(trunc(value + 1023), in_size - 1)
            fraction.append(value - 1024 * lo)
        else:
            value = (f32(i) + f32(0.5)) * scale - f32(0.5) if half_pixel_centers else f32(i) * scale
            lo, hi = max(int(np.floor(value)), 0), min(int(np.ceil(value)), in_size - 1)
            fraction.append(f32(value - f32(lo)))
        lower.append(lo)
        upper.append(hi)
    return lower, upper, fraction


def prepare_resize_bilinear(ctx):
    """resize_bilinear.cc Prepare: int8 and float32 only ('Output type is 7, requires float or
    int8.' for int16); align_corners and half_pixel_centers exclude each other.  The output's
    quantization is never read: int8 values are interpolated as raw integers."""
    inp, out, align, half = _prepare_resize(ctx, ("int8", "float32"))
    if align and half:
        ctx.fail("if half_pixel_centers is true, align_corners must be false (TFLM refuses both)")
    integer = inp.dtype == "int8"
    plan = {"integer": integer}
    for key, axis in (("rows", 1), ("cols", 2)):
        lower, upper, fraction = _bilinear_axis(out.shape[axis], inp.shape[axis], align, half, integer)
        if max(lower + upper) >= inp.shape[axis]:
            ctx.fail(f"TFLM's interpolation would read past the input's {key} ({inp.shape[axis]}) "
                     f"for an output of {out.shape[axis]}")
        plan[key] = (lower, upper, fraction)
    return plan


def run_resize_bilinear(plan, x, size):
    """reference_ops::ResizeBilinearInteger (int8: 10-bit fractions, int64 sums, rounded half away
    from zero by 2^20) or reference_ops::ResizeBilinear (float32: the same products and sums in
    float32 order, plus TFLM's rounding_offset 0.0f)."""
    (y0, y1, fy), (x0, x1, fx) = plan["rows"], plan["cols"]
    pick = lambda rows, cols: x[:, rows][:, :, cols]
    if plan["integer"]:
        v = [pick(r, c).astype(np.int64) for r, c in ((y0, x0), (y1, x0), (y0, x1), (y1, x1))]
        dy = np.array(fy, np.int64)[None, :, None, None]
        dx = np.array(fx, np.int64)[None, None, :, None]
        total = (v[0] * (1024 - dy) * (1024 - dx) + v[1] * dy * (1024 - dx)
                 + v[2] * (1024 - dy) * dx + v[3] * dy * dx)
        rounded = total + np.where(total > 0, 1 << 19, -(1 << 19))
        return (np.sign(rounded) * (np.abs(rounded) >> 20)).astype(x.dtype)
    f32 = np.float32
    v = [pick(r, c) for r, c in ((y0, x0), (y1, x0), (y0, x1), (y1, x1))]
    dy = np.array(fy, f32)[None, :, None, None]
    dx = np.array(fx, f32)[None, None, :, None]
    one = f32(1)
    total = v[0] * (one - dy) * (one - dx) + v[1] * dy * (one - dx)
    total = total + v[2] * (one - dy) * dx
    total = total + v[3] * dy * dx
    return (total + f32(0)).astype(f32)


def prepare_shape(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(out, ("int32", "int64"), "output")
    if tuple(out.shape) != (len(inp.shape),):
        ctx.fail(f"output {out.shape} cannot hold the {len(inp.shape)} dimensions of the input")
    return {"shape": np.array(inp.shape, np.int64)}


def run_shape(plan, x):
    """shape.cc: the input's dimensions (static here, so the generator folds the op away)."""
    return plan["shape"]


def _split_plan(ctx, inp, axis, sizes, squeeze=False):
    """SPLIT, SPLIT_V, UNPACK: output k is the slice [start_k, start_k + sizes[k]) of `axis`
    (UNPACK: without that axis).  Values are copied as they are (TFLM's split.cc, split_v.cc,
    unpack.cc)."""
    op = ctx.op
    if len(op.outputs) != len(sizes):
        ctx.fail(f"expects {len(sizes)} outputs, has {len(op.outputs)}")
    rank = len(inp.shape)
    starts = [int(v) for v in np.cumsum([0] + list(sizes))[:-1]]
    for k, size in enumerate(sizes):
        out = ctx.output(k)
        if out.dtype != inp.dtype:
            ctx.fail(f"output {k} has dtype {out.dtype}, the input {inp.dtype}")
        shape = list(inp.shape)
        shape[axis] = size
        if squeeze:
            del shape[axis]
        if tuple(shape) != tuple(out.shape):
            ctx.fail(f"output {k} is {out.shape}, the split gives {tuple(shape)}")
    return {"axis": axis, "rank": rank, "starts": starts, "sizes": list(sizes),
            "input_shape": tuple(inp.shape)}


def _split_axis(ctx, axis_t, rank):
    ctx.require_constant(axis_t, "axis")
    axis = int(axis_t.data.reshape(-1)[0])
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        ctx.fail(f"axis {int(axis_t.data.reshape(-1)[0])} is outside the input's rank {rank}")
    return axis


def prepare_split(ctx):
    op = ctx.op
    if len(op.inputs) != 2 or min(op.inputs) < 0:
        ctx.fail(f"expects 2 inputs (axis, input), has {op.inputs}")
    axis_t, inp = ctx.input(0), ctx.input(1)
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    axis = _split_axis(ctx, axis_t, len(inp.shape))
    count = op.options.get("num_splits", 0)
    if count <= 0 or inp.shape[axis] % count:
        ctx.fail(f"num_splits {count} does not divide axis {axis} of {inp.shape}")
    return _split_plan(ctx, inp, axis, [inp.shape[axis] // count] * count)


def prepare_split_v(ctx):
    op = ctx.op
    if len(op.inputs) != 3 or min(op.inputs) < 0:
        ctx.fail(f"expects 3 inputs (input, size_splits, axis), has {op.inputs}")
    inp, sizes_t, axis_t = ctx.input(0), ctx.input(1), ctx.input(2)
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    ctx.require_constant(sizes_t, "size_splits")
    axis = _split_axis(ctx, axis_t, len(inp.shape))
    sizes = [int(v) for v in sizes_t.data.reshape(-1)]
    if sizes.count(-1) == 1:                 # one size may be -1: the rest of the axis
        sizes[sizes.index(-1)] = inp.shape[axis] - (sum(sizes) + 1)
    if any(v < 0 for v in sizes) or sum(sizes) != inp.shape[axis]:
        ctx.fail(f"size_splits {sizes_t.data.reshape(-1).tolist()} do not add up to axis {axis} of {inp.shape}")
    return _split_plan(ctx, inp, axis, sizes)


def prepare_unpack(ctx):
    op = ctx.op
    if len(op.inputs) != 1 or op.inputs[0] < 0:
        ctx.fail(f"expects 1 input, has {op.inputs}")
    inp = ctx.input(0)
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    rank = len(inp.shape)
    axis = op.options.get("axis", 0)
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        ctx.fail(f"axis {op.options.get('axis', 0)} is outside the input's rank {rank}")
    if op.options.get("num", inp.shape[axis]) != inp.shape[axis]:
        ctx.fail(f"num {op.options['num']} differs from axis {axis} of {inp.shape}")
    return _split_plan(ctx, inp, axis, [1] * inp.shape[axis], squeeze=True)


def _run_split(plan, x):
    return [np.take(x, range(start, start + size), axis=plan["axis"])
            for start, size in zip(plan["starts"], plan["sizes"])]


def run_split(plan, axis, x):
    """reference SplitImpl (micro/kernels/split.cc)."""
    return _run_split(plan, x)


def run_split_v(plan, x, size_splits, axis):
    """reference SplitImpl (micro/kernels/split_v.cc)."""
    return _run_split(plan, x)


def run_unpack(plan, x):
    """UnpackImpl (micro/kernels/unpack.cc); the outputs lose the axis (the interpreter reshapes)."""
    return _run_split(plan, x)


# --- C++ emission ----------------------------------------------------------------------

def emit_reshape(e, op, plan, prefix, ins, outs):
    return f"tinynet::Reshape<{ins[0]}, {outs[0]}>"


def emit_concatenation(e, op, plan, prefix, ins, outs):
    return (f"tinynet::Concatenation<{outs[0]}, tinynet::ConcatenationOptions{{.axis = {plan['axis']}, "
            f".activation = {e.activation(op)}}}, {', '.join(ins)}>")


def emit_pad(e, op, plan, prefix, ins, outs):
    pads = plan["pads"]
    if len(pads) > 4:
        e.fail(op, f"padding a rank-{len(pads)} tensor is not supported (rank <= 4)")
    before = ", ".join(str(p[0]) for p in pads + [(0, 0)] * (4 - len(pads)))
    after = ", ".join(str(p[1]) for p in pads + [(0, 0)] * (4 - len(pads)))
    value = ""
    if op.opcode == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        if e.model.tensors[op.inputs[0]].dtype == "float32":
            if float(plan["value"]) != 0.0:
                e.fail(op, "a non-zero float pad value is not supported")
        else:
            value = f", .has_value = true, .value = {int(plan['value'])}"
    return (f"tinynet::Pad<{ins[0]}, {outs[0]}, tinynet::PadOptions{{.before = {{{before}}}, "
            f".after = {{{after}}}{value}}}>")


def emit_strided_slice(e, op, plan, prefix, ins, outs):
    rank = plan["rank"]
    if rank > 4:
        e.fail(op, f"slicing a rank-{rank} tensor is not supported (rank <= 4)")
    if 0 in plan["count"]:
        e.fail(op, "the slice is empty along an axis; empty tensors are not supported")
    axes = slice(5 - rank, 5)            # the plan is padded to 5-D at the front
    text = lambda values, fill: ", ".join(str(int(v)) for v in list(values[axes]) + [fill] * (4 - rank))
    return (f"tinynet::StridedSlice<{ins[0]}, {outs[0]}, tinynet::StridedSliceOptions{{"
            f".start = {{{text(plan['start'], 0)}}}, .stride = {{{text(plan['stride'], 1)}}}, "
            f".count = {{{text(plan['count'], 1)}}}}}>")


def emit_transpose(e, op, plan, prefix, ins, outs):
    perm = ", ".join(str(p) for p in plan["perm"])
    return f"tinynet::Transpose<{ins[0]}, {outs[0]}, tinynet::TransposeOptions{{.perm = {{{perm}}}}}>"


def alias_transpose(model, op, plan):
    return plan["alias"]


def emit_pack(e, op, plan, prefix, ins, outs):
    return f"tinynet::Pack<{outs[0]}, tinynet::PackOptions{{.axis = {plan['axis']}}}, {', '.join(ins)}>"


def emit_resize_nearest_neighbor(e, op, plan, prefix, ins, outs):
    e.add_array("std::int32_t", f"{prefix}_rows", plan["rows"])
    e.add_array("std::int32_t", f"{prefix}_cols", plan["cols"])
    return f"tinynet::ResizeNearestNeighbor<{ins[0]}, {outs[0]}, {prefix}_rows, {prefix}_cols>"


def emit_resize_bilinear(e, op, plan, prefix, ins, outs):
    names = []
    for key in ("rows", "cols"):
        lower, upper, fraction = plan[key]
        e.add_array("std::int32_t", f"{prefix}_{key}", [v for pair in zip(lower, upper) for v in pair])
        e.add_array("std::int32_t" if plan["integer"] else "float", f"{prefix}_{key}_fraction", fraction)
        names += [f"{prefix}_{key}", f"{prefix}_{key}_fraction"]
    return f"tinynet::ResizeBilinear<{ins[0]}, {outs[0]}, {', '.join(names)}>"


def _resize_table_bytes(bytes_per_index):
    """inspect's flash estimate of a resize op's tables: bytes_per_index per output row and column
    (nearest neighbor: one int32 index; bilinear: two int32 indices and a 4-byte fraction)."""
    def table_bytes(model, op):
        out = model.tensors[op.outputs[0]]
        return bytes_per_index * (int(out.shape[1]) + int(out.shape[2])) if len(out.shape) == 4 else 0
    return table_bytes


def params_resize(op):
    o = op.options
    return ", ".join(k for k in ("align_corners", "half_pixel_centers") if o.get(k))


def emit_split(e, op, plan, prefix, ins, outs):
    """One StridedSlice per output (a copy each): the library's ops have one output."""
    rank, axis = plan["rank"], plan["axis"]
    if rank > 4:
        e.fail(op, f"splitting a rank-{rank} tensor is not supported (rank <= 4)")
    if 0 in plan["sizes"]:
        e.fail(op, "an output of the split is empty; empty tensors are not supported")
    parts = []
    for k, (start, size) in enumerate(zip(plan["starts"], plan["sizes"])):
        starts = [start if a == axis else 0 for a in range(rank)] + [0] * (4 - rank)
        counts = [size if a == axis else d for a, d in enumerate(plan["input_shape"])] + [1] * (4 - rank)
        text = lambda values: ", ".join(str(v) for v in values)
        parts.append((f"_{k}", f"tinynet::StridedSlice<{ins[0]}, {outs[k]}, tinynet::StridedSliceOptions{{"
                                f".start = {{{text(starts)}}}, .stride = {{1, 1, 1, 1}}, "
                                f".count = {{{text(counts)}}}}}>"))
    return parts


def params_split(op):
    return f"{len(op.outputs)} outputs"


def params_concatenation(op):
    return f"axis {op.options['axis']}"


def params_strided_slice(op):
    return ", ".join(f"{k} {v}" for k, v in op.options.items() if k.endswith("_mask") and v)


# ---- neuron pruning (prune.py) ----------------------------------------------------------------

def prune_through_reshape(model, op, t, flattened):
    """A RESHAPE that flattens [N, H, W, C] to [N, H*W*C] (before a FULLY_CONNECTED) passes; the
    channels are then spread over the rows."""
    out = model.tensors[op.outputs[0]]
    if flattened or len(t.shape) != 4 or len(out.shape) != 2 or out.shape[0] != t.shape[0]:
        return False, flattened
    return True, (t.shape[1] * t.shape[2], t.shape[3])


def prune_shrink_reshape(model, op, keep, flattened):
    out = model.tensors[op.outputs[0]]
    out.shape = (out.shape[0], flattened[0] * keep.size)
    if len(op.inputs) > 1 and op.inputs[1] >= 0:
        model.tensors[op.inputs[1]].data = np.array(out.shape, np.int32)
        model.tensors[op.inputs[1]].shape = (2,)
    if op.options.get("new_shape"):
        op.options["new_shape"] = list(out.shape)


_STRIDED_SLICE_FIELDS = [
    (0, "begin_mask", "int32", 0), (1, "end_mask", "int32", 0),
    (2, "ellipsis_mask", "int32", 0), (3, "new_axis_mask", "int32", 0),
    (4, "shrink_axis_mask", "int32", 0), (5, "offset", "bool", False),
]

SPECS = [
    OpSpec("RESHAPE", (17, "ReshapeOptions", [(0, "new_shape", "int32[]", None)]), prepare_reshape,
           run_reshape, emit_reshape, data_inputs=1, quantize="shared", alias=True,
           prune_through=prune_through_reshape, prune_shrink=prune_shrink_reshape),
    OpSpec("SQUEEZE", (30, "SqueezeOptions", [(0, "squeeze_dims", "int32[]", None)]), prepare_squeeze,
           run_reshape, emit_reshape, data_inputs=1, quantize="shared", alias=True),
    OpSpec("EXPAND_DIMS", (52, "ExpandDimsOptions", []), prepare_expand_dims, run_reshape,
           emit_reshape, data_inputs=1, quantize="shared", alias=True),
    OpSpec("CONCATENATION", (10, "ConcatenationOptions",
                             [(0, "axis", "int32", 0), (1, "fused_activation_function", "activation", 0)]),
           prepare_concatenation, run_concatenation, emit_concatenation,
           params_text=params_concatenation, quantize="shared"),
    OpSpec("PAD", (22, "PadOptions", []), prepare_pad, run_pad, emit_pad, data_inputs=1,
           quantize="shared", prune="channelwise"),
    OpSpec("PADV2", (43, "PadV2Options", []), prepare_padv2, run_padv2, emit_pad, data_inputs=1,
           quantize="shared", prune="channelwise"),
    OpSpec("PACK", (59, "PackOptions", [(0, "values_count", "int32", 0), (1, "axis", "int32", 0)]),
           prepare_pack, run_pack, emit_pack, params_text=params_concatenation, quantize="shared"),
    OpSpec("RESIZE_NEAREST_NEIGHBOR", (74, "ResizeNearestNeighborOptions",
                                       [(0, "align_corners", "bool", False),
                                        (1, "half_pixel_centers", "bool", False)]),
           prepare_resize_nearest_neighbor, run_resize_nearest_neighbor, emit_resize_nearest_neighbor,
           data_inputs=1, params_text=params_resize, quantize="shared", prune="channelwise",
           requant_table_bytes=_resize_table_bytes(4)),
    OpSpec("RESIZE_BILINEAR", (15, "ResizeBilinearOptions",
                               [(2, "align_corners", "bool", False),
                                (3, "half_pixel_centers", "bool", False)]),
           prepare_resize_bilinear, run_resize_bilinear, emit_resize_bilinear,
           data_inputs=1, params_text=params_resize, quantize="shared", prune="channelwise",
           requant_table_bytes=_resize_table_bytes(12)),
    OpSpec("SHAPE", (55, "ShapeOptions", [(0, "out_type", "int8", 0)]), prepare_shape, run_shape,
           folded=True),
    OpSpec("SPLIT", (35, "SplitOptions", [(0, "num_splits", "int32", 0)]), prepare_split, run_split,
           emit_split, data_inputs=(1,), params_text=params_split, quantize="shared"),
    OpSpec("SPLIT_V", (79, "SplitVOptions", [(0, "num_splits", "int32", 0)]), prepare_split_v,
           run_split_v, emit_split, data_inputs=(0,), params_text=params_split, quantize="shared"),
    OpSpec("UNPACK", (64, "UnpackOptions", [(0, "num", "int32", 0), (1, "axis", "int32", 0)]),
           prepare_unpack, run_unpack, emit_split, data_inputs=(0,), params_text=params_split,
           quantize="shared"),
    OpSpec("TRANSPOSE", (26, "TransposeOptions", []), prepare_transpose, run_transpose, emit_transpose,
           data_inputs=1, quantize="shared", alias=alias_transpose),
    OpSpec("STRIDED_SLICE", (32, "StridedSliceOptions", _STRIDED_SLICE_FIELDS), prepare_strided_slice,
           run_strided_slice, emit_strided_slice, data_inputs=1, params_text=params_strided_slice,
           quantize="shared"),
]
