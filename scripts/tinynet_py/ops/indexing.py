"""Ops that pick, rearrange or convert values without arithmetic on them: GATHER, SPACE_TO_DEPTH,
DEPTH_TO_SPACE, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND, MIRROR_PAD, CAST, ARG_MAX, ARG_MIN."""

import numpy as np

from ..ir import DTYPES
from . import OpSpec


def prepare_gather(ctx):
    """gather.cc Prepare(): axis and batch_dims (negative ones count from the end), the output
    shape input[:axis] + indices[batch_dims:] + input[axis + 1:].  The indices are constants here
    (read at generation time); an index outside the axis makes TFLM's Invoke() fail, so it is
    refused."""
    ctx.require_inputs(2)
    inp, coords, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_dtypes(inp, ("int8", "int32", "float32"), "input")
    ctx.require_dtypes(coords, ("int32", "int64"), "indices")
    ctx.require_constant(coords, "indices")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    rank, coords_rank = len(inp.shape), len(coords.shape)
    axis = ctx.op.options.get("axis", 0)
    batch_dims = ctx.op.options.get("batch_dims", 0)
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        ctx.fail(f"axis {ctx.op.options.get('axis', 0)} is outside the input's rank {rank}")
    batch_dims = batch_dims + coords_rank if batch_dims < 0 else batch_dims
    if not 0 <= batch_dims <= min(axis, coords_rank) or batch_dims >= rank:
        ctx.fail(f"batch_dims {ctx.op.options.get('batch_dims', 0)} must be <= axis {axis} and "
                 f"<= the indices' rank {coords_rank}")
    if tuple(inp.shape[:batch_dims]) != tuple(coords.shape[:batch_dims]):
        ctx.fail(f"the first {batch_dims} dimensions of input {inp.shape} and indices {coords.shape} differ")
    expected = tuple(inp.shape[:axis]) + tuple(coords.shape[batch_dims:]) + tuple(inp.shape[axis + 1:])
    if expected != tuple(out.shape):
        ctx.fail(f"gathering {coords.shape} from {inp.shape} on axis {axis} gives {expected}, "
                 f"the output is {out.shape}")
    indices = coords.data.astype(np.int64).reshape(-1)
    if indices.size and (indices.min() < 0 or indices.max() >= inp.shape[axis]):
        ctx.fail(f"an index of {indices.tolist()} is outside axis {axis} of size {inp.shape[axis]}")
    size = lambda dims: int(np.prod(dims, dtype=np.int64))
    return {"indices": indices, "batch": size(inp.shape[:batch_dims]),
            "outer": size(inp.shape[batch_dims:axis]), "axis_size": int(inp.shape[axis]),
            "coords": size(coords.shape[batch_dims:]), "inner": size(inp.shape[axis + 1:]),
            "shape": tuple(out.shape)}


def run_gather(plan, x, coords=None):
    """Gather<> (micro/kernels/gather.cc): for each batch and outer position, the inner blocks at
    the batch's indices, values copied as they are."""
    batch, outer, coords_n, inner = plan["batch"], plan["outer"], plan["coords"], plan["inner"]
    view = x.reshape(batch, outer, plan["axis_size"], inner)
    picked = plan["indices"].reshape(batch, coords_n)
    out = np.stack([view[b][:, picked[b], :] for b in range(batch)])
    return out.reshape(plan["shape"])


def emit_gather(e, op, plan, prefix, ins, outs):
    e.add_array("std::int32_t", f"{prefix}_indices", plan["indices"])
    return (f"tinynet::Gather<{ins[0]}, {outs[0]}, {prefix}_indices, tinynet::GatherOptions{{"
            f".batch = {plan['batch']}, .outer = {plan['outer']}, .axis_size = {plan['axis_size']}, "
            f".coords = {plan['coords']}, .inner = {plan['inner']}}}>")


def params_gather(op):
    o = op.options
    return f"axis {o.get('axis', 0)}" + (f", batch_dims {o['batch_dims']}" if o.get("batch_dims") else "")


def _prepare_space_depth(ctx, to_depth):
    """space_to_depth.cc / depth_to_space.cc Prepare(): 4-D, float32 or int8, block_size > 0
    dividing height and width (SPACE_TO_DEPTH) or block_size^2 dividing the channels
    (DEPTH_TO_SPACE); the output shape follows."""
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    if len(inp.shape) != 4:
        ctx.fail(f"expects a 4-D (NHWC) input, got {inp.shape}")
    b = ctx.op.options.get("block_size", 0)
    n, h, w, c = (int(d) for d in inp.shape)
    if to_depth:
        if b <= 0 or h % b or w % b:
            ctx.fail(f"block_size {b} must be positive and divide height {h} and width {w}")
        expected = (n, h // b, w // b, c * b * b)
    else:
        if b <= 0 or c % (b * b):
            ctx.fail(f"block_size {b} must be positive and its square divide the {c} channels")
        expected = (n, h * b, w * b, c // (b * b))
    if expected != tuple(out.shape):
        ctx.fail(f"block_size {b} turns {inp.shape} into {expected}, the output is {out.shape}")
    return {"block": b, "shape": expected}


def prepare_space_to_depth(ctx):
    return _prepare_space_depth(ctx, to_depth=True)


def prepare_depth_to_space(ctx):
    return _prepare_space_depth(ctx, to_depth=False)


def run_space_to_depth(plan, x):
    """reference_ops::SpaceToDepth: output channel (by * b + bx) * C + c of output pixel (y, x) is
    input pixel (y * b + by, x * b + bx), channel c."""
    n, h, w, c = x.shape
    b = plan["block"]
    return x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5).reshape(plan["shape"])


def run_depth_to_space(plan, x):
    """reference_ops::DepthToSpace: the inverse of SpaceToDepth."""
    n, h, w, c = x.shape
    b = plan["block"]
    return x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5).reshape(plan["shape"])


def emit_space_to_depth(e, op, plan, prefix, ins, outs):
    return f"tinynet::SpaceToDepth<{ins[0]}, {outs[0]}, {plan['block']}>"


def emit_depth_to_space(e, op, plan, prefix, ins, outs):
    return f"tinynet::DepthToSpace<{ins[0]}, {outs[0]}, {plan['block']}>"


def params_block(op):
    return f"block_size {op.options.get('block_size', 0)}"


_MIRROR_MODES = {0: "REFLECT", 1: "SYMMETRIC"}


def _mirror_source(padded, left, size, offset):
    """GetInputDimension (micro/kernels/mirror_pad.cc): the input index output index `padded`
    reads along an axis."""
    if padded < left:
        original = left + offset - 1
        return original - min(padded, original - offset)
    padded -= left
    if padded >= size:
        padded -= size
        original = size - (1 + offset)
        return original - min(padded, original)
    return padded


def prepare_mirror_pad(ctx):
    """mirror_pad.cc Prepare(): paddings [rank, 2] (int32 or int64), output = input + paddings.
    TFLM has float32 and int8 kernels only (int16 fails at Invoke()).  A leading padding above
    size - offset (offset 1 for REFLECT, 0 for SYMMETRIC) makes TFLM read outside the input, so
    it is refused; a trailing one is clamped by TFLM's formula and accepted."""
    ctx.require_inputs(2)
    inp, paddings, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_constant(paddings, "paddings")
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    ctx.require_dtypes(paddings, ("int32", "int64"), "paddings")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    mode = ctx.op.options.get("mode", 0)
    if mode not in _MIRROR_MODES:
        ctx.fail(f"mode {mode} is neither REFLECT (0) nor SYMMETRIC (1)")
    offset = 1 if _MIRROR_MODES[mode] == "REFLECT" else 0
    rank = len(inp.shape)
    pads = paddings.data.astype(np.int64).reshape(-1)
    if pads.size != 2 * rank or not 1 <= rank <= 6:
        ctx.fail(f"paddings {paddings.data.tolist()} do not fit the input's rank {rank} (1 to 6)")
    pads = pads.reshape(rank, 2)
    for axis, (before, after) in enumerate(pads):
        if before < 0 or after < 0 or before > inp.shape[axis] - offset:
            ctx.fail(f"paddings {pads.tolist()}: axis {axis} of size {inp.shape[axis]} can be "
                     f"{_MIRROR_MODES[mode]}-padded by 0 to {inp.shape[axis] - offset} in front")
    expected = tuple(int(d + p[0] + p[1]) for d, p in zip(inp.shape, pads))
    if expected != tuple(out.shape):
        ctx.fail(f"padding input {inp.shape} by {pads.tolist()} gives {expected}, the output is {out.shape}")
    sources = [[_mirror_source(p, int(before), int(size), offset) for p in range(n)]
               for (before, _), size, n in zip(pads, inp.shape, expected)]
    return {"pads": [(int(p[0]), int(p[1])) for p in pads], "symmetric": offset == 0,
            "sources": sources}


def run_mirror_pad(plan, x, paddings=None):
    """MirrorPad (micro/kernels/mirror_pad.cc): every output element reads the input at
    GetInputDimension() of each of its indices."""
    return x[np.ix_(*[np.array(s, np.int64) for s in plan["sources"]])]


def emit_mirror_pad(e, op, plan, prefix, ins, outs):
    pads = plan["pads"] + [(0, 0)] * (6 - len(plan["pads"]))
    before = ", ".join(str(p[0]) for p in pads)
    after = ", ".join(str(p[1]) for p in pads)
    symmetric = "true" if plan["symmetric"] else "false"
    return (f"tinynet::MirrorPad<{ins[0]}, {outs[0]}, tinynet::MirrorPadOptions{{.before = {{{before}}}, "
            f".after = {{{after}}}, .symmetric = {symmetric}}}>")


def params_mirror_pad(op):
    return _MIRROR_MODES.get(op.options.get("mode", 0), "?")


_CAST_TYPES = ("int8", "int16", "int32", "float32")


def prepare_cast(ctx):
    """cast.cc: any of TFLM's types to any other, quantization ignored; these are the ones a
    tinynet tensor holds."""
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, _CAST_TYPES, "input")
    ctx.require_dtypes(out, _CAST_TYPES, "output")
    if tuple(inp.shape) != tuple(out.shape):
        ctx.fail(f"input shape {inp.shape} and output shape {out.shape} differ")
    return {"dtype": DTYPES[out.dtype]}


def run_cast(plan, x):
    """copyToTensor (micro/kernels/cast.cc): static_cast of each value.  Integers narrow to their
    low bits; floats truncate toward zero (outside the target's range C++ leaves it undefined)."""
    with np.errstate(invalid="ignore", over="ignore"):
        if np.issubdtype(x.dtype, np.floating) and not np.issubdtype(plan["dtype"], np.floating):
            return np.trunc(x).astype(np.int64).astype(plan["dtype"])
        return x.astype(plan["dtype"])


def emit_cast(e, op, plan, prefix, ins, outs):
    return f"tinynet::Cast<{ins[0]}, {outs[0]}>"


def _prepare_arg_min_max(ctx, is_max):
    """arg_min_max.cc: input float32 or int8 (uint8 too in TFLM; tinynet has no uint8 tensors),
    a one-element constant axis (int32 or int64; negative counts from the end), output int32 or
    int64 (the output tensor's type decides, as in TFLM's Eval) with outer x inner elements."""
    ctx.require_inputs(2)
    inp, axis_t, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    ctx.require_dtypes(axis_t, ("int32", "int64"), "axis")
    ctx.require_constant(axis_t, "axis")
    ctx.require_dtypes(out, ("int32", "int64"), "output")
    if axis_t.num_elements != 1:
        ctx.fail(f"axis {axis_t.data.tolist()} must hold one value")
    rank = len(inp.shape)
    axis = int(axis_t.data.reshape(-1)[0])
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank or inp.shape[axis] < 1:
        ctx.fail(f"axis {int(axis_t.data.reshape(-1)[0])} is outside the input {inp.shape}")
    outer = int(np.prod(inp.shape[:axis], dtype=np.int64))
    inner = int(np.prod(inp.shape[axis + 1:], dtype=np.int64))
    if out.num_elements != outer * inner:
        ctx.fail(f"reducing axis {axis} of {inp.shape} gives {outer * inner} values, the output "
                 f"{out.shape} holds {out.num_elements}")
    return {"outer": outer, "axis_size": int(inp.shape[axis]), "inner": inner, "is_max": is_max,
            "shape": tuple(out.shape), "dtype": DTYPES[out.dtype]}


def prepare_arg_max(ctx):
    return _prepare_arg_min_max(ctx, is_max=True)


def prepare_arg_min(ctx):
    return _prepare_arg_min_max(ctx, is_max=False)


def run_arg_min_max(plan, x, axis=None):
    """reference_ops::ArgMinMax: starting from index 0, a value strictly greater (ArgMax) or
    smaller (ArgMin) than the best so far takes its place, so ties keep the first index and a NaN
    never wins (nor loses its place if it comes first)."""
    view = x.reshape(plan["outer"], plan["axis_size"], plan["inner"])
    best, index = view[:, 0, :].copy(), np.zeros((plan["outer"], plan["inner"]), np.int64)
    for k in range(1, plan["axis_size"]):
        value = view[:, k, :]
        better = value > best if plan["is_max"] else value < best
        best = np.where(better, value, best)
        index = np.where(better, k, index)
    return index.astype(plan["dtype"]).reshape(plan["shape"])


def emit_arg_min_max(e, op, plan, prefix, ins, outs):
    return (f"tinynet::ArgMinMax<{ins[0]}, {outs[0]}, tinynet::ArgMinMaxOptions{{.outer = {plan['outer']}, "
            f".axis_size = {plan['axis_size']}, .inner = {plan['inner']}, "
            f".is_max = {'true' if plan['is_max'] else 'false'}}}>")


def _prepare_space_batch(ctx, to_batch):
    """space_to_batch_nd.cc / batch_to_space_nd.cc Prepare(): 3-D (NHC) or 4-D (NHWC) input and
    output of one type, int8 or float32 ('Type INT16 (7) not supported.' at Invoke); a constant
    int32 block shape (one entry per spatial axis) and paddings / crops ([spatial, 2]).  TFLM's
    kernels read only block[0..1] and the top/left amounts and trust the output shape; here the
    output shape must be the one they give (else TFLM would leave output bytes unwritten or read
    outside the input), blocks positive and amounts non-negative.  SPACE_TO_BATCH_ND pads with raw
    0 bytes, int8 too (not the zero point): TFLM's Prepare() never sets SpaceToBatchParams'
    output_offset, which SpaceToBatchND memsets, so it keeps the 0 of its zeroed persistent buffer
    (the tflm-ops goldens show 0 where the output zero point is 100)."""
    role = "paddings" if to_batch else "crops"
    ctx.require_inputs(3)
    inp, block_t, amounts_t, out = ctx.input(0), ctx.input(1), ctx.input(2), ctx.output()
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    rank = len(inp.shape)
    if rank not in (3, 4) or len(out.shape) != rank:
        ctx.fail(f"expects 3-D (NHC) or 4-D (NHWC) input and output of one rank, got {inp.shape} and {out.shape}")
    for t, name in ((block_t, "block_shape"), (amounts_t, role)):
        ctx.require_constant(t, name)
        ctx.require_dtypes(t, ("int32",), name)
    spatial = rank - 2
    block = [int(v) for v in block_t.data.reshape(-1)]
    amounts = [int(v) for v in amounts_t.data.reshape(-1)]
    if len(block) != spatial or len(amounts) != 2 * spatial or min(block) <= 0 or min(amounts) < 0:
        ctx.fail(f"block_shape {block} and {role} {amounts} must give each of the {spatial} spatial "
                 f"axes a positive block and two non-negative amounts")
    if spatial == 1:
        block, amounts = block + [1], amounts + [0, 0]
    n, h = int(inp.shape[0]), int(inp.shape[1])
    w, c = (int(inp.shape[2]), int(inp.shape[3])) if rank == 4 else (1, int(inp.shape[2]))
    (bh, bw), (top, bottom, left, right) = block, amounts
    if to_batch:
        ph, pw = h + top + bottom, w + left + right
        if ph % bh or pw % bw:
            ctx.fail(f"the padded spatial size {[ph, pw][:spatial]} is not a multiple of block_shape {block[:spatial]}")
        expected = [n * bh * bw, ph // bh, pw // bw, c]
    else:
        if n % (bh * bw):
            ctx.fail(f"the input batch {n} is not a multiple of the block_shape product {bh * bw}")
        expected = [n // (bh * bw), h * bh - top - bottom, w * bw - left - right, c]
    if rank == 3:
        expected = [expected[0], expected[1], expected[3]]
    if tuple(expected) != tuple(out.shape) or min(expected) <= 0:
        ctx.fail(f"block_shape {block[:spatial]} and {role} {amounts[:2 * spatial]} turn {inp.shape} into "
                 f"{tuple(expected)}, the output is {out.shape}")
    return {"block": (bh, bw), "amounts": (top, bottom, left, right)}


def prepare_space_to_batch_nd(ctx):
    return _prepare_space_batch(ctx, to_batch=True)


def prepare_batch_to_space_nd(ctx):
    return _prepare_space_batch(ctx, to_batch=False)


def _nhwc(x):
    return x if x.ndim == 4 else x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])


def run_space_to_batch_nd(plan, x, block_shape, paddings):
    """reference_ops::SpaceToBatchND: pad, then output batch (shift_h * bw + shift_w) * N + n holds
    the padded pixels (h * bh + shift_h, w * bw + shift_w) of input batch n."""
    (bh, bw), (top, bottom, left, right) = plan["block"], plan["amounts"]
    x4 = np.pad(_nhwc(x), [(0, 0), (top, bottom), (left, right), (0, 0)], constant_values=0)
    n, ph, pw, c = x4.shape
    y = x4.reshape(n, ph // bh, bh, pw // bw, bw, c).transpose(2, 4, 0, 1, 3, 5)
    return y.reshape((n * bh * bw, ph // bh) + ((pw // bw, c) if x.ndim == 4 else (c,)))


def run_batch_to_space_nd(plan, x, block_shape, crops):
    """reference_ops::BatchToSpaceND: input batch (shift_h * bw + shift_w) * N + n goes to the
    pixels (h * bh + shift_h - top, w * bw + shift_w - left) of output batch n; the rest is
    cropped."""
    (bh, bw), (top, bottom, left, right) = plan["block"], plan["amounts"]
    x4 = _nhwc(x)
    nb, h, w, c = x4.shape
    n = nb // (bh * bw)
    y = x4.reshape(bh, bw, n, h, w, c).transpose(2, 3, 0, 4, 1, 5).reshape(n, h * bh, w * bw, c)
    y = y[:, top:h * bh - bottom, left:w * bw - right]
    return y if x.ndim == 4 else y.reshape(y.shape[0], y.shape[1], c)


def emit_space_batch(e, op, plan, prefix, ins, outs):
    (bh, bw), (top, bottom, left, right) = plan["block"], plan["amounts"]
    name = "SpaceToBatchNd" if op.opcode == "SPACE_TO_BATCH_ND" else "BatchToSpaceNd"
    return (f"tinynet::{name}<{ins[0]}, {outs[0]}, tinynet::SpaceBatchOptions{{.block_h = {bh}, "
            f".block_w = {bw}, .top = {top}, .bottom = {bottom}, .left = {left}, .right = {right}}}>")


SPECS = [
    OpSpec("GATHER", (23, "GatherOptions", [(0, "axis", "int32", 0), (1, "batch_dims", "int32", 0)]),
           prepare_gather, run_gather, emit_gather, data_inputs=1, params_text=params_gather,
           quantize="shared"),
    OpSpec("SPACE_TO_DEPTH", (19, "SpaceToDepthOptions", [(0, "block_size", "int32", 0)]),
           prepare_space_to_depth, run_space_to_depth, emit_space_to_depth, params_text=params_block,
           quantize="shared"),
    OpSpec("DEPTH_TO_SPACE", (94, "DepthToSpaceOptions", [(0, "block_size", "int32", 0)]),
           prepare_depth_to_space, run_depth_to_space, emit_depth_to_space, params_text=params_block,
           quantize="shared"),
    OpSpec("SPACE_TO_BATCH_ND", (25, "SpaceToBatchNDOptions", []), prepare_space_to_batch_nd,
           run_space_to_batch_nd, emit_space_batch, data_inputs=1, quantize="shared"),
    OpSpec("BATCH_TO_SPACE_ND", (24, "BatchToSpaceNDOptions", []), prepare_batch_to_space_nd,
           run_batch_to_space_nd, emit_space_batch, data_inputs=1, quantize="shared"),
    OpSpec("MIRROR_PAD", (77, "MirrorPadOptions", [(0, "mode", "int8", 0)]), prepare_mirror_pad,
           run_mirror_pad, emit_mirror_pad, data_inputs=1, params_text=params_mirror_pad,
           quantize="shared"),
    OpSpec("CAST", (37, "CastOptions", []), prepare_cast, run_cast, emit_cast, same_shape=True),
    OpSpec("ARG_MAX", (40, "ArgMaxOptions", [(0, "output_type", "int8", 2)]), prepare_arg_max,
           run_arg_min_max, emit_arg_min_max, data_inputs=1),
    OpSpec("ARG_MIN", (57, "ArgMinOptions", [(0, "output_type", "int8", 2)]), prepare_arg_min,
           run_arg_min_max, emit_arg_min_max, data_inputs=1),
]
