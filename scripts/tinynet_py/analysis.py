"""Per-layer statistics and a memory plan for a model: what `tinynet inspect` prints.

The arena estimate follows the plan described in docs/design.md ("The arena plan"):
every non-constant tensor lives from the step that produces it (graph inputs: from the
start) to the last step that reads it (graph outputs: to the end); the output of an alias
op (RESHAPE) shares its input's buffer, a split's outputs are views of its input, a Pack's inputs
are written into its output and in-place layers write over their inputs, as the compiler decides
(_sharing); buffers are placed greedily, largest first, at the lowest 16-byte-aligned offset that
overlaps no buffer alive at the same time. It is made without a compiler: `tinynet report` draws
the compiled plan itself (report.compiled_arena_plan).
"""

from dataclasses import dataclass

import numpy as np

from .data import layout_lines
from .errors import ModelError
from .ops import REGISTRY, aliases
from .ops.common import OpContext

ALIGNMENT = 16


@dataclass(frozen=True)
class Build:
    """What the arena estimate needs to know of the build: the form `--sparse` asks for and the
    compiler's goal (speed: -O2; size: -Os, as Arduino cores build: core/sparsity.hpp). The arena
    depends on the form only where --sparse compressed puts a DepthwiseConv2D out of place; the
    goal is kept for what the commands print."""
    sparse: str = "auto"
    optimize: str = "speed"


SPEED = Build()


def _shape_text(shape):
    return "x".join(str(d) for d in shape) if shape else "scalar"


def _spec(op):
    return REGISTRY.get(op.opcode)      # None for an op tinynet does not know (inspect lists it)


def _weighted(op):
    spec = _spec(op)
    return spec is not None and spec.weights


def op_macs(model, op):
    """Multiply-accumulates of one op (0 for ops without multiplications by weights)."""
    spec = _spec(op)
    return spec.macs(model, op) if spec is not None and spec.macs is not None else 0


def op_params_text(op):
    spec = _spec(op)
    parts = [spec.params_text(op)] if spec is not None and spec.params_text is not None else []
    activation = op.options.get("fused_activation_function", "NONE")
    if activation != "NONE":
        parts.append(activation.lower())
    return ", ".join(p for p in parts if p)


def _weight_tensors(op, tensors):
    """The constant tensors an op counts as its weights: every constant input of a weighted op,
    or of an op that takes constant operands (a MUL factor)."""
    spec = _spec(op)
    if not (_weighted(op) or (spec is not None and spec.constant_operands)):
        return []
    return [i for i in op.inputs if i >= 0 and tensors[i].data is not None]


def weight_bytes(model):
    """Bytes of the ops' weights (layer_table's weight_bytes), each tensor once however many ops
    read it (the steps of an unrolled RNN share theirs), as Network::weight_bytes counts tables."""
    distinct = {i for op in model.ops for i in _weight_tensors(op, model.tensors)}
    return sum(model.tensors[i].nbytes for i in distinct)


def layer_table(model, build=SPEED):
    """One dict per op: index, op, name, inputs (activations), state (shapes of the state tensors
    it reads and updates in place), output, params, macs, weight_bytes, activation_bytes (bytes of
    the op's output), arena_bytes (what they take of the arena's own: own_arena_bytes),
    state_bytes (bytes of its state tensors that no earlier op already counted: a state tensor's
    RAM is counted once)."""
    rows = []
    arena = own_arena_bytes(model, build)
    state_tensors = set(model.state_tensors())
    counted_state = set()
    for op in model.ops:
        t = model.tensors
        state = [i for i in op.inputs if i in state_tensors]
        data_inputs = [i for i in op.inputs if i >= 0 and t[i].data is None and i not in state_tensors]
        weight_bytes = sum(t[i].nbytes for i in _weight_tensors(op, t))
        out = t[op.outputs[0]]
        # Pruned layers: the share of non-zero weights, and the MACs that remain (each weight of
        # a conv or fully-connected layer is used equally often, up to padding at the borders).
        density = 1.0
        if _weighted(op) and len(op.inputs) > 1 and op.inputs[1] >= 0 and t[op.inputs[1]].data is not None:
            w = t[op.inputs[1]].data
            density = float(np.count_nonzero(w)) / w.size if w.size else 1.0
        macs = int(op_macs(model, op))
        new_state = [i for i in dict.fromkeys(state) if i not in counted_state]
        counted_state.update(new_state)
        rows.append({
            "index": op.index, "op": op.opcode, "name": out.name,
            "inputs": [list(t[i].shape) for i in data_inputs],
            "input_dtypes": [t[i].dtype for i in data_inputs],
            "state": [list(t[i].shape) for i in state],
            "state_dtypes": [t[i].dtype for i in state],
            "output": list(out.shape), "output_dtype": out.dtype,
            "params": op_params_text(op), "macs": macs,
            "weight_density": density, "nonzero_macs": int(round(macs * density)),
            "weight_bytes": int(weight_bytes),
            "activation_bytes": int(sum(t[i].nbytes for i in op.outputs)),
            "arena_bytes": int(arena[op.index]),
            "state_bytes": int(sum(t[i].nbytes for i in new_state)),
        })
    return rows


def constant_bytes(model):
    """Bytes of every constant tensor the ops read (weights, biases, shape/axis tensors)."""
    used = {i for op in model.ops for i in op.inputs if i >= 0}
    return sum(model.tensors[i].nbytes for i in used if model.tensors[i].data is not None)


def requant_table_bytes(model):
    """Per-output-channel multiplier and shift (int32 each) of the conv-like ops."""
    total = 0
    for op in model.ops:
        spec = _spec(op)
        if spec is not None and spec.requant_table_bytes is not None:
            total += spec.requant_table_bytes(model, op)
    return total


def widened_on_dsp(model):
    """Whether the model has an int8 CONV_2D or DEPTHWISE_CONV_2D with int8 weights: on DSP cores
    (Cortex-M4, M7, M33, M55) their kernels store those weights widened to 16 bits (wide rows,
    sign-extended pairs), so the image's tables exceed the constants counted here."""
    return any(op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D") and model.tensors[op.inputs[0]].dtype == "int8"
               and len(op.inputs) > 1 and model.tensors[op.inputs[1]].dtype == "int8" and not model.tensors[op.inputs[1]].int4
               for op in model.ops)


FLASH_ESTIMATE_NOTE = ("tables only, no code; on DSP cores the int8 convolutions keep their weights as 16-bit values, "
                       "up to twice as many bytes; `tinynet bench --target cortex-m4` measures the image")


# ---- the arena plan: which tensors share bytes -------------------------------------------------
# The same decisions as the compiler's (include/tinynet/graph/network.hpp, `lifetimes`), from the
# properties each C++ layer declares (core/op.hpp): an alias's output is its input; a contiguous
# slice (SPLIT, SPLIT_V, UNPACK) is a view at its offset; a Pack/Concatenation input produced
# alone is written into its slot of the output; an in-place op's output goes over its first input
# (a widening pointwise convolution's starting below it) when nothing under those bytes is read
# later. Ops this table does not know are taken as never sharing (the estimate is then high).

# Layers with in_place = true (layers/activation/, layers/elementwise/unary*.hpp, abs, neg), and
# QUANTIZE / CAST when the element size stays (layers/quantize/).
_IN_PLACE_UNARY = {"RELU", "RELU6", "LOGISTIC", "TANH", "LEAKY_RELU", "L2_NORMALIZATION", "ELU", "HARD_SWISH",
                   "ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT"}
_IN_PLACE_SAME_SIZE = {"QUANTIZE", "CAST"}
# layers/elementwise/binary.hpp (PRELU too): over the first runtime operand when it is not broadcast.
_IN_PLACE_BINARY = {"ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "PRELU"}


def _data_inputs(model, op):
    return [i for i in op.inputs if i >= 0 and model.tensors[i].data is None]


def _in_place_tried(model, op, build=SPEED):
    """Whether the compiler tries the op in place and keeps it only where the arena shrinks
    (graph/network.hpp, `tried`): a widening pointwise convolution, or a Conv2D over its input
    through a ring of rows (layers/conv/conv2d.hpp, in_place_tried)."""
    below = _in_place_below(model, op, build)
    if below is None:
        return False
    return below > 0 or (op.opcode == "CONV_2D" and not _pointwise_in_place(model, op))


def _pointwise_in_place(model, op):
    """layers/conv/conv2d.hpp's pointwise_in_place (the int8 checks are _in_place_below's)."""
    t = model.tensors
    x, y, w = t[_data_inputs(model, op)[0]], t[op.outputs[0]], t[op.inputs[1]]
    o = op.options
    return ((w.shape[1], w.shape[2], o.get("stride_h", 1), o.get("stride_w", 1)) == (1, 1, 1, 1) and
            tuple(y.shape[1:3]) == tuple(x.shape[1:3]) and w.shape[3] == x.shape[3])


def _in_place_below(model, op, build=SPEED):
    """None when the op's C++ layer cannot write over its first runtime input here, built as
    `build` says; else how many bytes below that input its output starts (0: at the same start)."""
    t = model.tensors
    ins = _data_inputs(model, op)
    if not ins:
        return None
    x, y = t[ins[0]], t[op.outputs[0]]
    if op.opcode in _IN_PLACE_UNARY:
        return 0 if x.dtype == y.dtype else None
    if op.opcode in _IN_PLACE_SAME_SIZE:
        return 0 if np.dtype(x.dtype).itemsize == np.dtype(y.dtype).itemsize and \
            (op.opcode == "QUANTIZE" or x.dtype == y.dtype) else None
    if op.opcode in _IN_PLACE_BINARY:      # layers/elementwise/binary.hpp: the operand not broadcast
        return 0 if tuple(x.shape) == tuple(y.shape) and x.nbytes == y.nbytes else None
    if op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D") or x.dtype != "int8" or len(x.shape) != 4:
        return None
    w = t[op.inputs[1]]
    if w.data is None or w.dtype != "int8" or x.shape[0] != 1:
        return None
    o = op.options
    (_, in_h, in_w, in_c), (_, out_h, out_w, out_c) = x.shape, y.shape
    s_h = o.get("stride_h", 1)
    d_h = o.get("dilation_h_factor", 1)
    k_h = w.shape[1]
    if op.opcode == "CONV_2D":
        if w.shape[3] != in_c:          # groups
            return None
        # layers/conv/conv2d.hpp, pointwise_in_place: 1x1, stride 1, no padding; below = (pixels -
        # 1) x (out_c - in_c) bytes rounded up to 16 when it widens.
        if _pointwise_in_place(model, op):
            extra = (out_h * out_w - 1) * max(out_c - in_c, 0)
            return -(-extra // ALIGNMENT) * ALIGNMENT
        # Else rows_in_place: the ring below (every Conv2D form but `nm` runs row by row; a layer
        # that runs `nm` stays out of place, which this estimate, not knowing the form, ignores).
    elif build.sparse == "compressed":
        # layers/conv/depthwise_conv2d.hpp: in place in the dense and `unrolled` forms (row by row),
        # not in `compressed` (pixel pairs across rows), which only --sparse compressed gives it:
        # the automatic rule never picks it for a depthwise layer (core/sparsity.hpp).
        return None
    # Output no larger than the input, and a ring of (lag + 1) output rows of at most 2 KiB and a
    # quarter of the output (layers/conv/in_place_rows.hpp).
    if y.nbytes > x.nbytes:
        return None
    pad_h = max((out_h - 1) * s_h + (k_h - 1) * d_h + 1 - in_h, 0) // 2
    in_row, out_row = in_w * in_c, out_w * out_c
    lag = 0
    for r in range(out_h):      # layers/conv/in_place_rows.hpp, InPlaceRows::lag
        first_in, last_in = r * out_row // in_row, min(((r + 1) * out_row - 1) // in_row, in_h - 1)
        for i in range(first_in, last_in + 1):
            lag = max(lag, min((i + pad_h) // s_h, out_h - 1) - r)
    ring = (lag + 1) * out_row
    return 0 if ring <= 2048 and 4 * ring <= y.nbytes else None


def _residual_fusable(model, k):
    """layers/conv/residual_rows.hpp, ResidualRows::applies: ops k, k + 1, k + 2 are conv1 -> conv2 ->
    ADD(x, y2) (either order) that graph/network.hpp may run fused, row by row."""
    ops, t = model.ops, model.tensors
    if k + 2 >= len(ops):
        return None
    c1, c2, add = ops[k], ops[k + 1], ops[k + 2]
    if c1.opcode != "CONV_2D" or c2.opcode != "CONV_2D" or add.opcode != "ADD":
        return None
    convs = []
    for op in (c1, c2):
        ins = _data_inputs(model, op)
        if len(ins) != 1:
            return None
        x, y, w = t[ins[0]], t[op.outputs[0]], t[op.inputs[1]]
        if x.dtype != "int8" or w.data is None or w.dtype != "int8" or len(x.shape) != 4 or x.shape[0] != 1 or \
                w.shape[3] != x.shape[3]:
            return None
        o = op.options
        s_h, d_h, k_h = o.get("stride_h", 1), o.get("dilation_h_factor", 1), w.shape[1]
        pad_h = max((y.shape[1] - 1) * s_h + (k_h - 1) * d_h + 1 - x.shape[1], 0) // 2
        convs.append((ins[0], op.outputs[0], s_h, d_h, k_h, pad_h))
    x, y1, s1, _, _, p1 = convs[0]
    y1b, y2, s2, d2, k2, p2 = convs[1]
    add_ins = _data_inputs(model, add)
    if y1b != y1 or x in (y1, y2) or sorted(add_ins) != sorted([x, y2]) or len(add.inputs) != 2:
        return None
    sm = add.outputs[0]
    if not (tuple(t[x].shape) == tuple(t[y2].shape) == tuple(t[sm].shape)) or t[sm].dtype != "int8" or \
            t[y1].nbytes > t[x].nbytes:
        return None
    rows, h1 = t[y2].shape[1], t[y1].shape[1]
    ring = (k2 - 1) * d2 + 1

    def first_y1(r):
        return max(r * s2 - p2, 0)

    def last_y1(r):
        return min(r * s2 - p2 + (k2 - 1) * d2, h1 - 1)

    for r in range(rows):
        if min((r + p1) // s1, h1 - 1) > last_y1(r) or last_y1(r) - first_y1(r) + 1 > ring:
            return None
        if r > 0 and (last_y1(r) < last_y1(r - 1) or first_y1(r) < first_y1(r - 1)):
            return None
    row1 = t[y1].shape[2] * t[y1].shape[3]
    row2 = t[y2].shape[2] * t[y2].shape[3]
    if ring * row1 + row2 > 4096:
        return None
    return x, y1, y2, sm


def _slice_view(model, op):
    """STRIDED_SLICE: [byte offset of the output in the input] when the slice is one contiguous run
    of it (layers/shape/strided_slice.hpp, view_offset: unit counts, then one axis with stride 1,
    then whole axes), else None."""
    try:
        plan = _spec(op).prepare(OpContext(model, op))
    except ModelError:
        return None
    if plan["rank"] > 4 or 0 in plan["count"]:
        return None                         # the emitter refuses these
    start, stride, count, dims = plan["start"], plan["stride"], plan["count"], plan["shape5"]
    d = 0
    while d < 4 and count[d] == 1:
        d += 1
    if count[d] > 1 and stride[d] != 1:
        return None
    if any(count[e] != dims[e] or start[e] != 0 or stride[e] != 1 for e in range(d + 1, 5)):
        return None
    first = 0
    for a in range(5):
        first = first * dims[a] + start[a]
    return [first * np.dtype(model.tensors[op.outputs[0]].dtype).itemsize]


def _views(model, op):
    """SPLIT, SPLIT_V, UNPACK: the byte offset of each output in the input when the outputs are
    contiguous runs of it (every axis before the split axis is 1), else None; STRIDED_SLICE:
    _slice_view."""
    if op.opcode == "STRIDED_SLICE":
        return _slice_view(model, op)
    if op.opcode not in ("SPLIT", "SPLIT_V", "UNPACK"):
        return None
    x = model.tensors[_data_inputs(model, op)[0]]
    offsets, at = [], 0
    for k in op.outputs:
        offsets.append(at)
        at += model.tensors[k].nbytes
    if at != x.nbytes:
        return None
    for k in op.outputs:                 # contiguous: the leading axes before the split are 1
        shape = list(x.shape)
        out = model.tensors[k]
        if op.opcode == "UNPACK":
            axis = op.options.get("axis", 0) % len(shape)
        else:
            axis = next(a for a in range(len(shape)) if out.shape[a] != shape[a]) \
                if tuple(out.shape) != tuple(shape) else 0
        if any(d != 1 for d in shape[:axis]):
            return None
    return offsets


def _gather(model, op):
    """PACK, CONCATENATION: each data input's byte offset in the output when each is one block of
    it (nothing but unit axes before the axis), else None."""
    if op.opcode not in ("PACK", "CONCATENATION") or any(model.tensors[i].data is not None for i in op.inputs):
        return None
    out = model.tensors[op.outputs[0]]
    axis = op.options.get("axis", 0) % len(out.shape)
    if any(d != 1 for d in out.shape[:axis]):
        return None
    offsets, at = [], 0
    for i in op.inputs:
        offsets.append(at)
        at += model.tensors[i].nbytes
    return offsets


def _sharing(model, allow=frozenset(), build=SPEED):
    """{tensor: (tensor whose buffer it shares, byte offset from that one's start, bytes it added
    to that buffer)}, decided in op order as graph/network.hpp decides (`decide`); `allow`: the ops
    tried in place that network.hpp keeps (_in_place_tried). Without it, the ones network.hpp's
    `lifetimes` keeps (_widening_kept)."""
    if allow is None:
        allow = _widening_kept(model, build)
    t = model.tensors
    last = {}
    for op in model.ops:
        for i in op.inputs:
            if i >= 0:
                last[i] = op.index
    for i in model.outputs:
        last[i] = len(model.ops)
    state = {i for op in model.ops for i in op.inputs if i >= 0 and t[i].is_variable and t[i].data is None}
    for i in state:
        last[i] = len(model.ops)
    fixed = set(model.inputs) | state
    group, rel, shares = {}, {}, {}

    def root(i):
        return group.get(i, i)

    span = {}          # per group root: its lowest and one past its highest byte

    def join(member, other, offset):
        g = root(other)
        low, high = span.get(g, (0, t[g].nbytes))
        start = rel.get(other, 0) + offset
        new = (min(low, start), max(high, start + t[member].nbytes))
        span[g] = new
        shares[member] = (other, offset, (new[1] - new[0]) - (high - low))
        group[member] = g
        rel[member] = start

    def members(g):
        return [m for m in set(group) | {g} if root(m) == g]

    def overlaps(m, lo, hi):
        return rel.get(m, 0) < hi and lo < rel.get(m, 0) + t[m].nbytes

    skip = 0
    for op in model.ops:
        if skip:
            skip -= 1
            continue
        block = _residual_fusable(model, op.index) if ("fuse", op.index) in allow else None
        if block is not None:       # network.hpp's `fuses`
            bx, by1, by2, bsum = block
            k = op.index
            g = root(bx)
            lo = rel.get(bx, 0)
            busy = [m for m in members(g) if overlaps(m, lo, lo + t[bx].nbytes) and last.get(m, -1) > k + 2]
            if bx not in fixed and last.get(by1) == k + 1 and last.get(by2) == k + 2 and last.get(bx) == k + 2 \
                    and not busy:
                join(by1, bx, 0)
                join(by2, bx, 0)
                join(bsum, bx, 0)
                skip = 2
                continue
        ins = _data_inputs(model, op)
        if not ins:
            continue
        x, out = ins[0], op.outputs[0]
        views, gather = _views(model, op), _gather(model, op)
        if aliases(model, op):
            join(out, x, 0)
            if x in fixed:
                fixed.add(out)
        elif views is not None:
            if x not in fixed:
                for k, at in zip(op.outputs, views):
                    join(k, x, at)
        elif gather is not None:
            for i, at in zip(op.inputs, gather):
                if i != out and i not in fixed and i not in shares and members(root(i)) == [i]:
                    join(i, out, at)
        else:
            below = _in_place_below(model, op, build)
            if below is None or (below == 0 and t[out].nbytes > t[x].nbytes) or \
                    (_in_place_tried(model, op, build) and op.index not in allow):
                continue
            g = root(x)
            lo = rel.get(x, 0) - below
            hi = lo + t[out].nbytes
            others = [i for i in ins[1:] if i != x and root(i) == g and overlaps(i, lo, hi)]
            busy = [m for m in members(g) if overlaps(m, lo, hi) and last.get(m, -1) > op.index]
            low, high = span.get(g, (0, t[g].nbytes))
            wasted = max(high, hi) - min(low, lo) > 2 * t[out].nbytes   # network.hpp's rule
            if not others and not busy and not wasted:
                join(out, x, -below)
    return shares


def _lifetimes(model, allow=None, build=SPEED):
    """Buffers to place: list of dicts with tensors, size (the span of their bytes), first step,
    last step."""
    t = model.tensors
    steps = len(model.ops)
    shares = _sharing(model, allow, build)

    def place(i):
        """(root, offset from the root's start)."""
        offset = 0
        while i in shares:
            i, at = shares[i][0], offset + shares[i][1]
            offset = at
        return i, offset

    groups, members = {}, {}

    def touch(i, step):
        if i < 0 or t[i].data is not None:
            return
        r, at = place(i)
        g = groups.setdefault(r, {"tensors": set(), "low": at, "high": at + t[i].nbytes, "first": step,
                                  "last": step, "exact": False})
        g["tensors"].add(i)
        g["low"], g["high"] = min(g["low"], at), max(g["high"], at + t[i].nbytes)
        g["size"] = g["high"] - g["low"]
        g["first"] = min(g["first"], step)
        g["last"] = max(g["last"], step)
        g["exact"] = g["exact"] or at != 0
        m = members.setdefault(i, {"at": at, "size": t[i].nbytes, "first": step, "last": step})
        m["first"], m["last"] = min(m["first"], step), max(m["last"], step)

    for i in model.inputs:
        touch(i, -1)
    for op in model.ops:
        for i in op.inputs:
            touch(i, op.index)
        for i in op.outputs:
            touch(i, op.index)
    for i in model.outputs:
        touch(i, steps)
    # State (variable tensors) lives across invokes: from before the first op to after the last,
    # with its 16-byte marker (docs/design.md, "State").
    state = model.state_tensors()
    for i in state:
        touch(i, -1)
        touch(i, steps)
    # A group with a member at an offset is placed member by member (graph/arena_plan.hpp, `exact`):
    # each member's bytes from the group's start, and its own lifetime.
    for g in groups.values():
        g["rects"] = ([{**members[i], "at": members[i]["at"] - g["low"]} for i in sorted(g["tensors"])]
                      if g["exact"] else [{"at": 0, "size": g["size"], "first": g["first"], "last": g["last"]}])
    if state:
        groups["state marker"] = {"tensors": set(), "size": ALIGNMENT, "first": -1, "last": steps, "exact": False,
                                  "rects": [{"at": 0, "size": ALIGNMENT, "first": -1, "last": steps}]}
    return list(groups.values())


def _widening_kept(model, build=SPEED):
    """network.hpp's `lifetimes`: in op order, each tried op (_in_place_tried: a widening
    convolution overlapping its input, a Conv2D over it through a ring) is kept when the arena is
    smaller with it."""
    candidates = []
    for op in model.ops:        # network.hpp's choices: a residual block fused, then the op in place
        if _residual_fusable(model, op.index) is not None:
            candidates.append(("fuse", op.index))
        if _in_place_tried(model, op, build):
            candidates.append(op.index)
    if not candidates:
        return set()

    def sharing(allow):
        return {i: v[:2] for i, v in _sharing(model, allow, build).items()}

    def choose(keep_ties):      # network.hpp's `choose`
        allow = set()
        best, best_sharing = _place(model, _lifetimes(model, allow, build))[0], sharing(allow)
        for k in candidates:
            shared = sharing(allow | {k})
            total = best if shared == best_sharing else _place(model, _lifetimes(model, allow | {k}, build))[0]
            if total < best or (keep_ties and total == best and shared != best_sharing):
                allow, best, best_sharing = allow | {k}, total, shared
        if keep_ties:
            for k in reversed(candidates):
                if k in allow:
                    total = _place(model, _lifetimes(model, allow - {k}, build))[0]
                    if total <= best:
                        allow, best = allow - {k}, total
        return allow, best

    allow, best = choose(False)
    if any(isinstance(k, tuple) for k in candidates):
        ties, ties_best = choose(True)
        if ties_best < best:
            allow = ties
    return allow


def own_arena_bytes(model, build=SPEED):
    """Per op, the arena bytes its outputs take beyond the buffers they share: 0 for an alias, a
    view, an in-place output or a Pack input in its slot (the Pack's output counts it); a
    convolution overlapping its input from below, what it adds to that buffer."""
    shares = _sharing(model, None, build)
    return {op.index: sum(shares[i][2] if i in shares else model.tensors[i].nbytes for i in op.outputs)
            for op in model.ops}


def _align(n, alignment=ALIGNMENT):
    return -(-n // alignment) * alignment


def _collision(b, at, p):
    """graph/arena_plan.hpp's collision(): 0 if buffer b at `at` clears placed buffer p, else the
    lowest offset for b past the collision."""
    if p["last"] < b["first"] or b["last"] < p["first"]:
        return 0
    if at >= p["offset"] + _align(p["size"]) or p["offset"] >= at + _align(b["size"]):
        return 0
    if not b["exact"] and not p["exact"]:
        return p["offset"] + _align(p["size"])
    past = 0
    for m in b["rects"]:
        for n in p["rects"]:
            m_start, n_start = at + m["at"], p["offset"] + n["at"]
            if (m["first"] <= n["last"] and n["first"] <= m["last"] and m_start < n_start + n["size"]
                    and n_start < m_start + m["size"]):
                past = max(past, _align(max(n_start + n["size"] - m["at"], 0)))
    return past


def arena_plan(model, alignment=ALIGNMENT, build=SPEED):
    """Greedy placement, as graph/arena_plan.hpp: largest first, each at the lowest aligned offset
    clear of the placed buffers; returns (arena_bytes, peak_live_bytes, buffers with offsets)."""
    return _place(model, _lifetimes(model, None, build), alignment)


def _place(model, buffers, alignment=ALIGNMENT):
    def place(order):
        placed = []
        for b in order:
            offset, moved = 0, True
            while moved:
                moved = False
                for p in placed:
                    past = _collision(b, offset, p)
                    if past > offset:
                        offset, moved = past, True
            placed.append({**b, "offset": offset})
        return placed

    ordered = sorted(buffers, key=lambda b: (-b["size"], b["first"]))
    placed = place(ordered)
    if any(b["exact"] for b in ordered):      # plan_arena's second order: exact groups last
        other = place([b for b in ordered if not b["exact"]] + [b for b in ordered if b["exact"]])
        end = lambda plan: max((_align(b["offset"] + b["size"]) for b in plan), default=0)
        if end(other) < end(placed):
            placed = other
        by_time = [b for _, b in sorted(enumerate(ordered), key=lambda kb: (kb[1]["first"], kb[0]))]
        third = place(by_time)
        if end(third) < end(placed):
            placed = third
    # The compiled plan (include/tinynet/graph/arena_plan.hpp) rounds every buffer up to the
    # alignment, so the arena ends on a multiple of it too.
    arena = max((_align(b["offset"] + b["size"], alignment) for b in placed), default=0)
    steps = range(-1, len(model.ops) + 1)

    def live(b, s):       # the bytes of b's members alive at step s (overlapping members once)
        rects = [r for r in b["rects"] if r["first"] <= s <= r["last"]]
        return max(r["at"] + r["size"] for r in rects) - min(r["at"] for r in rects) if rects else 0
    peak = max((sum(live(b, s) for b in placed) for s in steps), default=0)
    return int(arena), int(peak), placed


def summary(model, build=SPEED):
    """What `inspect` prints; the arena figures for the build `build` describes (analysis.Build)."""
    rows = layer_table(model, build)
    arena, peak, _ = arena_plan(model, build=build)
    weights = constant_bytes(model)
    tables = requant_table_bytes(model)
    return {
        "model": model.path, "sha256": model.sha256, "description": model.description,
        "inputs": [{"name": model.tensors[i].name, "shape": list(model.tensors[i].shape),
                    "dtype": model.tensors[i].dtype,
                    "scale": float(model.tensors[i].scale_scalar),
                    "zero_point": model.tensors[i].zero_point_scalar} for i in model.inputs],
        "outputs": [{"name": model.tensors[i].name, "shape": list(model.tensors[i].shape),
                     "dtype": model.tensors[i].dtype,
                     "scale": float(model.tensors[i].scale_scalar),
                     "zero_point": model.tensors[i].zero_point_scalar} for i in model.outputs],
        "layouts": layout_lines(model),
        "layers": rows,
        "build": {"sparse": build.sparse, "optimize": build.optimize},
        "totals": {
            "ops": len(rows),
            "macs": int(sum(r["macs"] for r in rows)),
            "nonzero_macs": int(sum(r["nonzero_macs"] for r in rows)),
            "weight_bytes": int(weight_bytes(model)),
            "state_bytes": int(sum(model.tensors[i].nbytes for i in model.state_tensors())),
            "constant_bytes": int(weights),
            "requant_table_bytes": int(tables),
            "flash_estimate_bytes": int(weights + tables),
            "flash_estimate_widened_on_dsp": widened_on_dsp(model),
            "arena_estimate_bytes": arena,
            "peak_live_activation_bytes": peak,
        },
    }
