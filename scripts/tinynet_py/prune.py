"""Magnitude pruning of a model in tinynet's IR, float32 or int8.

- prune_synapses: zeroes the given fraction of the weights of every CONV_2D, DEPTHWISE_CONV_2D and
  FULLY_CONNECTED, those of smallest magnitude, either per layer (each layer loses that fraction)
  or globally (one threshold over all layers). On int8 weights the magnitude is the real value,
  |q| * scale[channel], so channels with different scales compare fairly.
- prune_neurons: removes whole output neurons (FULLY_CONNECTED units, CONV_2D output channels)
  with the smallest L2 norm, and the inputs that read them in the next layer, so both layers
  shrink. A layer qualifies when its output reaches exactly one weighted consumer through ops that
  keep channels apart (activations, pooling, padding, MEAN over H and W, a depthwise convolution
  with multiplier 1, which shrinks too, and a RESHAPE that flattens to [batch, H*W*C] before a
  FULLY_CONNECTED); graph outputs are never pruned.
  Residual blocks are pruned as a group (_channel_group): the tensors an element-wise join (a
  residual ADD: OpSpec.prune_join) adds together, and those the channel-wise ops before and after
  it pass on, share one channel space; the same channels leave all of them, the layers writing
  them (output channels) and the layers reading them (input channels).
Every function returns a new Model and a list of per-layer report rows; the input is not changed.
"""

import copy

import numpy as np

from . import ops
from .errors import UsageError
from .ir import DTYPES
from .ops.common import shrink_last_dim, take_channels

# Which op is pruned and which keeps channels apart is declared with the op (OpSpec.prune,
# prune_neurons, prune_through, prune_shrink): this file names no op.
WEIGHTED = ops.names(lambda s: s.prune == "synapses")
_NEURONS = ops.names(lambda s: s.prune_neurons is not None)
_PASS_THROUGH = ops.names(lambda s: s.prune == "channelwise" or s.prune_through is not None)
_JOINS = ops.names(lambda s: s.prune_join is not None)
# Output channel c from the input's channel c alone (activations, pooling).
_CHANNEL_WISE = ops.names(lambda s: s.prune == "channelwise")


def _check_fraction(fraction, flag):
    if not 0.0 <= fraction < 1.0:
        raise UsageError(None, f"{flag} must be a fraction in [0, 1), got {fraction}")


def prune_synapses(model, fraction, scope="layer"):
    _check_fraction(fraction, "--prune-synapses")
    if scope not in ("layer", "global"):
        raise UsageError(None, f"--prune-scope must be 'layer' or 'global', got '{scope}'")
    result = copy.deepcopy(model)
    layers = [op for op in result.ops if op.opcode in WEIGHTED]
    magnitudes = {op.index: np.abs(result.tensors[op.inputs[1]].real_values()) for op in layers}
    global_threshold = None
    if scope == "global" and layers:
        everything = np.concatenate([m.reshape(-1) for m in magnitudes.values()])
        global_threshold = _threshold(everything, fraction)
    rows = []
    for op in layers:
        w = result.tensors[op.inputs[1]]
        magnitude = magnitudes[op.index]
        before = int(np.count_nonzero(w.data))
        if global_threshold is None:
            keep = _keep_mask(magnitude, fraction)
        else:
            keep = magnitude > global_threshold
        data = np.where(keep, w.data, 0).astype(w.data.dtype)
        w.data = data
        rows.append({"op": op.index, "opcode": op.opcode, "weights": int(data.size),
                     "nonzero_before": before, "nonzero_after": int(np.count_nonzero(data))})
    return result, rows


def _threshold(magnitudes, fraction):
    """The magnitude at or below which `fraction` of the values lie."""
    if fraction <= 0 or magnitudes.size == 0:
        return -1.0
    k = int(np.floor(fraction * magnitudes.size))
    if k == 0:
        return -1.0
    return float(np.partition(magnitudes, k - 1)[k - 1])


def _keep_mask(magnitude, fraction):
    """Zero exactly floor(fraction * n) weights, the smallest (ties broken by position)."""
    flat = magnitude.reshape(-1)
    k = int(np.floor(fraction * flat.size))
    keep = np.ones(flat.size, bool)
    if k > 0:
        keep[np.argsort(flat, kind="stable")[:k]] = False
    return keep.reshape(magnitude.shape)


# ---- structured pruning ----------------------------------------------------------------------

def _consumers(model):
    readers = {}
    for op in model.ops:
        for i in op.inputs:
            if i >= 0:
                readers.setdefault(i, []).append(op)
    return readers


def _grouped(model, op):
    """A grouped convolution (filter depth below the input depth): its channels cannot shrink alone."""
    w = model.tensors[op.inputs[1]]
    return len(w.shape) == 4 and w.shape[3] != model.tensors[op.inputs[0]].shape[-1]


def _chain(model, op, readers):
    """From a weighted op's output to its one weighted consumer: (path ops, consumer) or None."""
    if _grouped(model, op):
        return None                 # an output channel less would leave its groups unequal
    path = []
    tensor = op.outputs[0]
    flattened = None       # (spatial positions, channels) once a RESHAPE flattened the channels
    while True:
        if tensor in model.outputs:
            return None
        users = readers.get(tensor, [])
        if len(users) != 1:
            return None
        user = users[0]
        if user.inputs[0] != tensor:
            return None
        t = model.tensors[tensor]
        spec = ops.spec(user.opcode)
        if user.opcode in _NEURONS:
            passes, flattened = spec.prune_neurons(model, user, t, flattened)
            if not flattened and _grouped(model, user):
                return None         # its input channels belong to groups
            return (path, user, flattened) if passes else None
        if user.opcode not in _PASS_THROUGH:
            return None
        if spec.prune_through is not None:
            passes, flattened = spec.prune_through(model, user, t, flattened)
            if not passes:
                return None
        path.append(user)
        tensor = user.outputs[0]


def _passes(model, op, t, flattened):
    """Whether a channel-wise op keeps the channels of its input t apart: (passes, flattened after)."""
    spec = ops.spec(op.opcode)
    if op.opcode not in _PASS_THROUGH or op.inputs[0] != t:
        return False, flattened
    if spec.prune_through is None:
        return True, flattened
    return spec.prune_through(model, op, model.tensors[t], flattened)


def _channel_group(model, join, readers, writer):
    """The channel space around a join op (a residual ADD): every tensor whose channels are those of
    the join's output, found through joins and channel-wise ops both ways. Returns a dict
    (tensors: {index: flattened}, path: ops writing a group tensor from another, producers: the
    weighted ops writing one, consumers: [(op, flattened)] the weighted ops reading one) or None when
    some tensor of the space cannot shrink (a graph input or output, a constant, an op that mixes
    channels, a consumer that is not a layer's input)."""
    spec = ops.spec(join.opcode)
    if not spec.prune_join(model, join):
        return None
    group = {"tensors": {}, "path": {}, "producers": {}, "consumers": {}}
    todo = [(t, None) for t in [i for i in join.inputs if i >= 0] + list(join.outputs)]
    group["path"][join.index] = join
    while todo:
        t, flattened = todo.pop()
        if t in group["tensors"]:
            continue
        group["tensors"][t] = flattened
        if t in model.outputs or t in model.inputs or model.tensors[t].data is not None:
            return None
        op = writer.get(t)
        if op is None:
            return None
        if op.index not in group["path"]:            # upstream: who writes t
            if op.opcode in _JOINS:
                if flattened or not ops.spec(op.opcode).prune_join(model, op):
                    return None
                group["path"][op.index] = op
                todo += [(i, None) for i in op.inputs if i >= 0]
            elif (op.opcode in _NEURONS and not flattened and not _grouped(model, op)
                  and model.tensors[op.inputs[1]].shape[0] == model.tensors[t].shape[-1]):
                group["producers"][op.index] = op
            else:
                passes, after = _passes(model, op, op.inputs[0], None)
                if not passes or after:
                    return None
                group["path"][op.index] = op
                todo.append((op.inputs[0], None))
        for user in readers.get(t, []):              # downstream: who reads t
            if user.index in group["path"] or user.index in group["consumers"]:
                continue
            if user.opcode in _JOINS:
                if flattened or not ops.spec(user.opcode).prune_join(model, user):
                    return None
                group["path"][user.index] = user
                todo += [(i, None) for i in user.inputs if i >= 0] + [(o, None) for o in user.outputs]
            elif user.inputs[0] != t:
                return None
            elif user.opcode in _NEURONS:
                passes, after = ops.spec(user.opcode).prune_neurons(model, user, model.tensors[t], flattened)
                if not passes or (not after and _grouped(model, user)):
                    return None                      # a grouped convolution's channels belong to groups
                group["consumers"][user.index] = (user, after)
            else:
                passes, after = _passes(model, user, t, flattened)
                if not passes:
                    return None
                group["path"][user.index] = user
                todo.append((user.outputs[0], after))
    if not group["producers"] or not group["consumers"]:
        return None
    return group


def _shrink_consumer(model, consumer, keep, flattened):
    """A layer reading pruned channels loses the matching inputs (columns of its weights)."""
    weights = model.tensors[consumer.inputs[1]]
    if flattened:
        positions, channels = flattened
        columns = (np.arange(positions)[:, None] * channels + keep[None, :]).reshape(-1)
        take_channels(weights, columns, 1)
    else:
        take_channels(weights, keep, weights.data.ndim - 1)


def _keep_output_channels(model, op, keep):
    """A layer loses the output channels not in `keep` (weights, bias, output tensor)."""
    take_channels(model.tensors[op.inputs[1]], keep, ops.spec(op.opcode).weight_axis)
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        take_channels(model.tensors[op.inputs[2]], keep, 0)
    shrink_last_dim(model.tensors[op.outputs[0]], keep.size)


def _shrink_passed(model, op, keep, flattened):
    """A channel-wise op a pruned chain passes keeps only the `keep` channels (its parameters and
    output through its spec's prune_shrink, else just the output's last dimension)."""
    shrink = ops.spec(op.opcode).prune_shrink
    if shrink is not None:
        shrink(model, op, keep, flattened)
    else:
        shrink_last_dim(model.tensors[op.outputs[0]], keep.size)


def _keep_chain_channels(model, op, path, consumer, keep, flattened):
    """A chain (_chain) keeps only the `keep` output channels of `op`: the layer, the ops passed
    on the way and the consumer's inputs."""
    _keep_output_channels(model, op, keep)
    for step in path:
        _shrink_passed(model, step, keep, flattened)
    _shrink_consumer(model, consumer, keep, flattened)


def prune_residual_groups(model, fraction):
    """Prunes `fraction` of the channels of every residual channel group (_channel_group) of
    `model` in place: a channel's score is the sum over the group's producers of its share of the
    producer's squared L2 norm (real weights), so that layers of different scales weigh alike; the
    lowest go. Returns report rows."""
    rows = []
    done = set()
    for join in list(model.ops):
        if join.opcode not in _JOINS or join.index in done:
            continue
        readers = _consumers(model)
        writer = {o: op for op in model.ops for o in op.outputs}
        group = _channel_group(model, join, readers, writer)
        if group is None:
            continue
        done.update(i for i, op in group["path"].items() if op.opcode in _JOINS)
        width = model.tensors[join.outputs[0]].shape[-1]
        drop = int(np.floor(fraction * width))
        if drop == 0 or drop >= width:
            continue
        score = np.zeros(width)
        for op in group["producers"].values():
            w = model.tensors[op.inputs[1]].real_values()
            norms = (np.moveaxis(w, ops.spec(op.opcode).weight_axis, 0).reshape(width, -1) ** 2).sum(axis=1)
            score += norms / max(norms.sum(), 1e-30)
        keep = np.sort(np.argsort(score, kind="stable")[drop:])
        for op in group["producers"].values():
            _keep_output_channels(model, op, keep)
        for op in group["path"].values():
            _shrink_passed(model, op, keep, group["tensors"].get(op.outputs[0]))
        for consumer, flattened in group["consumers"].values():
            _shrink_consumer(model, consumer, keep, flattened)
        rows.append({"op": sorted(group["producers"]), "opcode": "residual group", "units_before": int(width),
                     "units_after": int(keep.size), "consumer": sorted(group["consumers"]),
                     "joins": sorted(i for i, op in group["path"].items() if op.opcode in _JOINS)})
    return rows


def prune_neurons(model, fraction):
    _check_fraction(fraction, "--prune-neurons")
    result = copy.deepcopy(model)
    rows = []
    if fraction == 0:
        return result, rows
    rows += prune_residual_groups(result, fraction)
    for op in list(result.ops):
        if op.opcode not in _NEURONS:
            continue
        readers = _consumers(result)
        found = _chain(result, op, readers)
        if found is None:
            continue
        path, consumer, flattened = found
        weights = result.tensors[op.inputs[1]]
        units = weights.shape[0]
        drop = int(np.floor(fraction * units))
        if drop == 0 or drop >= units:
            continue
        norms = np.sqrt((weights.real_values().reshape(units, -1) ** 2).sum(axis=1))
        keep = np.sort(np.argsort(norms, kind="stable")[drop:])
        _keep_chain_channels(result, op, path, consumer, keep, flattened)
        rows.append({"op": op.index, "opcode": op.opcode, "units_before": int(units),
                     "units_after": int(keep.size), "consumer": consumer.index})
    return result, rows



# ---- channels no layer reads (lossless) ----------------------------------------------------------

def _read_channels(model, consumer, channels, flattened):
    """Which of the `channels` input channels of `consumer` some non-zero weight reads."""
    w = np.asarray(model.tensors[consumer.inputs[1]].data)
    if flattened:
        positions, depth = flattened
        w = w.reshape(w.shape[0], positions, depth)
    else:
        w = w.reshape(-1, w.shape[-1])
    return (w != 0).reshape(-1, channels).any(axis=0)


def _channel_values(model, op, path, units, interpreter):
    """The values the chain (op, then the channel-wise ops of `path`) gives its consumer, for one
    input (all zero point): [positions, units]."""
    t = model.tensors[op.inputs[0]]
    value = np.full(t.shape, t.zero_point_scalar, DTYPES[t.dtype])
    for step in [op] + path:
        args = [value] + [model.tensors[i].data if i >= 0 else None for i in step.inputs[1:]]
        value = ops.REGISTRY[step.opcode].run(interpreter.plans[step.index], *args)
        value = np.asarray(value).reshape(model.tensors[step.outputs[0]].shape)
    return value.reshape(-1, units)


def _zero_channels(model, op, units):
    """Which of a quantized weighted op's `units` channels (along its weight axis) have only zero
    weights; None for an op without such weights (float ones too: 0 x inf is not 0)."""
    axis = ops.spec(op.opcode).weight_axis
    if axis is None or len(op.inputs) < 2 or op.inputs[1] < 0:
        return None
    w = model.tensors[op.inputs[1]]
    if w.data is None or w.dtype not in ("int8", "int16") or w.shape[axis] != units:
        return None
    return ~np.moveaxis(w.data != 0, axis, 0).reshape(units, -1).any(axis=1)


def _input_free_channels(model, op, path, units):
    """The channels of the chain (op, then the channel-wise ops of `path`) whose values at the
    consumer do not depend on the model's input: those of a layer with only zero weights on that
    channel (its sums are its bias alone), at the chain's start or at a depthwise convolution on the
    way, the channel-wise ops after it seeing one input whatever the model's."""
    free = _zero_channels(model, op, units)
    for step in path:
        if step.opcode in WEIGHTED:
            zero = _zero_channels(model, step, units)
            if zero is not None:
                free = free | zero
    return free


def _fold_constant_channels(model, op, path, consumer, flattened):
    """A quantized layer's output channels whose weights are all zero hold one value at every
    position (its bias, requantized), and so do those a depthwise convolution on the way has only
    zero weights for (_input_free_channels) where the channel-wise ops keep it one value (checked
    position by position: padding can break it); a consumer without
    padded taps (FullyConnected, a Conv2D with VALID padding or a 1x1 kernel) then adds the same
    w * (value - input zero point) to each of its sums, which its bias can hold instead: TFLM's
    int32 accumulator ends at the same value. The folded columns become zero (unread). Returns the
    channels folded."""
    weights = model.tensors[op.inputs[1]]
    cw = model.tensors[consumer.inputs[1]]
    source = model.tensors[consumer.inputs[0]]
    if weights.dtype not in ("int8", "int16") or cw.dtype != "int8" or source.dtype not in ("int8", "int16"):
        return []
    if len(consumer.inputs) < 3 or consumer.inputs[2] < 0 or np.any(cw.zero_point != 0):
        return []
    if len(cw.shape) == 4 and not (consumer.options.get("padding") == "VALID" or cw.shape[1:3] == (1, 1)):
        return []
    units = weights.shape[ops.spec(op.opcode).weight_axis]
    silent = _input_free_channels(model, op, path, units) & _read_channels(model, consumer, units, flattened)
    silent = np.flatnonzero(silent)
    if silent.size == 0:
        return []
    from .reference import Interpreter
    values = _channel_values(model, op, path, units, Interpreter(model))
    constant = [c for c in silent if np.all(values[:, c] == values[0, c])]
    w = cw.data.astype(np.int64)
    w = w.reshape(w.shape[0], flattened[0], flattened[1]) if flattened else w.reshape(w.shape[0], -1, units)
    bias = model.tensors[consumer.inputs[2]]
    offset = np.array([int(values[0, c]) - source.zero_point_scalar for c in constant], np.int64)
    folded = bias.data.astype(np.int64) + (w[:, :, constant] * offset).sum(axis=(1, 2))
    info = np.iinfo(bias.data.dtype)
    if not constant or folded.min() < info.min or folded.max() > info.max:
        return []
    bias.data = folded.astype(bias.data.dtype)
    w[:, :, constant] = 0
    cw.data = w.reshape(cw.shape).astype(cw.data.dtype)
    return constant


def _whole_spans(read, span, flattened):
    """`read` widened to whole aligned spans of `span` channels: a span with any channel read keeps
    all of them. Removing only whole spans keeps an N:M pattern along the consumer's inputs
    (span = M): the spans after a removed one stay aligned, each with the same weights, and the
    `nm` form (layers/dense/nm_rows.hpp) reads the pattern span by span. A flattened consumer
    whose channels per position are not a multiple of `span` keeps every channel."""
    if flattened and flattened[1] % span:
        return np.ones_like(read)
    padded = np.zeros(-(-read.size // span) * span, bool)
    padded[:read.size] = read
    return np.repeat(padded.reshape(-1, span).any(axis=1), span)[:read.size]


def pattern_span(pattern):
    """The span drop_unread_channels keeps whole after --prune-pattern: M for N:M, else None."""
    if not pattern:
        return None
    kind, _, m = parse_pattern(pattern)
    return m if kind == "n:m" else None


def input_reaches_outputs(model):
    """Whether some output of the model can depend on its inputs. A channel depends on them when a
    non-zero weight of a weighted op (Conv2D, DepthwiseConv2D, FullyConnected) carries a dependent
    channel to it, or a channel-wise op (pooling, activations: OpSpec.prune "channelwise") passes
    its own; any other op with a dependent input is taken to make every output element dependent
    (so the answer errs towards True). State tensors count as inputs (they carry earlier ones).
    Pruning can cut every path: vww_96_int8 pruned 80 % per layer answers [10, -10] to every
    image, which no output byte shows by itself."""
    t = model.tensors
    dep = {i: np.ones(t[i].shape[-1] if t[i].shape else 1, bool) for i in list(model.inputs) + list(model.state_tensors())}

    def channels(i):
        d = dep.get(i)
        if d is None:
            return np.zeros(t[i].shape[-1] if t[i].shape else 1, bool)
        return d

    for op in model.ops:
        data = [i for i in op.inputs if i >= 0 and t[i].data is None]
        if not any(channels(i).any() for i in data):
            continue
        w = t[op.inputs[1]].data if len(op.inputs) > 1 and op.inputs[1] >= 0 else None
        x = channels(data[0]) if data else None
        out = None
        if w is not None and op.opcode in WEIGHTED and len(data) == 1:
            nz, axis = np.asarray(w) != 0, ops.spec(op.opcode).weight_axis
            if nz.ndim == 4 and axis == 3 and nz.shape[3] % x.size == 0:
                # [1, kh, kw, channels x multiplier]: channel c reads input channel c / multiplier
                out = nz.reshape(-1, nz.shape[3]).any(axis=0) & np.repeat(x, nz.shape[3] // x.size)
            elif axis == 0 and ((nz.ndim == 4 and nz.shape[3] == x.size) or (nz.ndim == 2 and nz.shape[1] % x.size == 0)):
                # [out, kh, kw, in] or [units, depth]: a row's columns run over the input's channels,
                # position by position (a FullyConnected's flattened input too)
                rows = nz.reshape(nz.shape[0], -1)
                out = (rows & np.tile(x, rows.shape[1] // x.size)[None, :]).any(axis=1)
        elif op.opcode in _CHANNEL_WISE and len(data) == 1 and t[op.outputs[0]].shape[-1:] == t[data[0]].shape[-1:]:
            out = x
        for o in op.outputs:
            width = t[o].shape[-1] if t[o].shape else 1
            dep[o] = out if out is not None and out.size == width else np.ones(width, bool)
    return any(channels(o).any() for o in model.outputs)


def drop_unread_channels(model, span=None):
    """Removes the output channels of a layer that its one weighted consumer never reads: every
    weight of the consumer on that channel (at every tap or flattened position) is zero, so the
    channel's values cannot reach any output. The layer loses the channel (weights, bias, per-
    channel quantization), the channel-wise ops between them (a depthwise convolution, pooling,
    activations) lose it too, and the consumer loses the all-zero input columns. Before that, a
    channel of one value that the consumer does read moves into its bias where that is exact
    (_fold_constant_channels), which makes its column zero too. Every output is unchanged to the
    bit: only values nobody reads, or that never change, are no longer computed. Models pruned by
    channels without removing them (vww_96_int8's later layers read 2-53 % of their input
    channels) run smaller and faster. With `span` (pattern_span: the M of an N:M pattern), a layer
    that would lose fewer than 1/16 of its channels loses them only in whole aligned spans of M
    (_whole_spans), so that its N:M-pruned consumer keeps its pattern: kws pruned 2:4 loses 2 of
    64 channels before its last 1x1 Conv2D, which then ran dense instead of `nm` (+81,000
    instructions on the Cortex-M4); pruned 1:4 it loses up to 11 per layer, worth more than the
    pattern (whose `nm` form is no faster there than `unrolled`). Returns a new model and report
    rows."""
    result = copy.deepcopy(model)
    rows = []
    for op in list(result.ops):
        if op.opcode not in _NEURONS or result.tensors[op.inputs[1]].data is None:
            continue
        readers = _consumers(result)
        found = _chain(result, op, readers)
        if found is None:
            continue
        path, consumer, flattened = found
        if result.tensors[consumer.inputs[1]].data is None:
            continue
        shared = [op.inputs[1], consumer.inputs[1]] + op.inputs[2:3] + consumer.inputs[2:3]
        shared += [t for step in path for t in step.inputs[1:]]
        if any(len(readers.get(t, [])) > 1 for t in shared if t >= 0):
            continue                    # a constant another op reads too must keep its shape
        units = result.tensors[op.inputs[1]].shape[ops.spec(op.opcode).weight_axis]
        folded = _fold_constant_channels(result, op, path, consumer, flattened)
        read = _read_channels(result, consumer, units, flattened)
        if span and 16 * (units - np.count_nonzero(read)) < units:
            read = _whole_spans(read, span, flattened)
        keep = np.flatnonzero(read)
        if keep.size == units:
            continue
        if keep.size == 0:
            keep = np.array([0])         # the consumer reads nothing; a tensor keeps one channel
        _keep_chain_channels(result, op, path, consumer, keep, flattened)
        rows.append({"op": op.index, "opcode": op.opcode, "units_before": int(units),
                     "units_after": int(keep.size), "consumer": consumer.index,
                     "path": [step.index for step in path], "folded": len(folded)})
    return result, rows



# ---- structured synapse pruning (--prune-pattern) ---------------------------------------------
# Patterns along the last weight axis: the input channels of CONV_2D (OHWI) and FULLY_CONNECTED
# ([units][inputs]), the channels of DEPTHWISE_CONV_2D ([1][kh][kw][channels]).
#   N:M     in every M consecutive weights keep the N of largest magnitude (a shorter last group of
#           r < M weights keeps min(r, N)): 1 - N/M of the weights are zeroed;
#   blockK  zero whole K-wide blocks (per output channel and tap), the given fraction of each
#           layer's blocks, smallest L2 norm first.

def parse_pattern(text):
    """'2:4' -> ('n:m', 2, 4); 'block4' -> ('block', 4, 0); anything else is a usage error."""
    text = (text or "").strip()
    if text.startswith("block") and text[5:].isdigit() and int(text[5:]) >= 2:
        return ("block", int(text[5:]), 0)
    parts = text.split(":")
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        n, m = int(parts[0]), int(parts[1])
        if 1 <= n < m <= 16:
            return ("n:m", n, m)
    raise UsageError(None, f"--prune-pattern must be N:M with 1 <= N < M <= 16 (e.g. 2:4, 1:4) or blockK "
                           f"with K >= 2 (e.g. block4), got '{text}'")


def pattern_fraction(pattern, fraction):
    """The fraction of the weights a pattern zeroes: N:M fixes it (1 - N/M; a --prune-synapses
    given with it must be that value), blockK takes --prune-synapses."""
    kind, n, m = parse_pattern(pattern)
    if kind == "block":
        _check_fraction(fraction, "--prune-synapses")
        if fraction <= 0:
            raise UsageError(None, f"--prune-pattern {pattern} needs --prune-synapses F (the fraction of blocks to zero)")
        return fraction
    implied = 1.0 - n / m
    if fraction and abs(fraction - implied) > 1e-9:
        raise UsageError(None, f"--prune-pattern {pattern} zeroes {implied:g} of the weights: give "
                               f"--prune-synapses {implied:g} or leave it out")
    return implied


def _groups_keep(magnitude, size, keep_in_group):
    """Keep mask over groups of `size` along the last axis: per group, the `keep_in_group`
    largest (ties by position). The last, shorter group is padded with magnitudes below any."""
    last = magnitude.shape[-1]
    rows = magnitude.reshape(-1, last)
    padded_len = -(-last // size) * size
    padded = np.full((rows.shape[0], padded_len), -1.0)
    padded[:, :last] = rows
    groups = padded.reshape(rows.shape[0], -1, size)
    order = np.argsort(-groups, axis=-1, kind="stable")
    keep = np.zeros(groups.shape, bool)
    np.put_along_axis(keep, order[..., :keep_in_group], True, axis=-1)
    return keep.reshape(rows.shape[0], padded_len)[:, :last].reshape(magnitude.shape)


def _blocks_keep(magnitude, size, fraction):
    """Keep mask zeroing floor(fraction * blocks) whole `size`-wide blocks along the last axis,
    smallest L2 norm first (ties by position)."""
    last = magnitude.shape[-1]
    rows = magnitude.reshape(-1, last)
    padded_len = -(-last // size) * size
    padded = np.zeros((rows.shape[0], padded_len))
    padded[:, :last] = rows
    norms = np.sqrt((padded.reshape(rows.shape[0], -1, size) ** 2).sum(axis=-1))
    block_keep = _keep_mask(norms, fraction)
    keep = np.repeat(block_keep, size, axis=-1)
    return keep[:, :last].reshape(magnitude.shape)


def prune_pattern(model, fraction, pattern):
    """--prune-synapses with --prune-pattern: every weighted layer pruned in the pattern (per layer)."""
    kind, n, m = parse_pattern(pattern)
    fraction = pattern_fraction(pattern, fraction)
    result = copy.deepcopy(model)
    rows = []
    for op in result.ops:
        if op.opcode not in WEIGHTED:
            continue
        w = result.tensors[op.inputs[1]]
        magnitude = np.abs(w.real_values())
        before = int(np.count_nonzero(w.data))
        keep = _groups_keep(magnitude, m, n) if kind == "n:m" else _blocks_keep(magnitude, n, fraction)
        w.data = np.where(keep, w.data, 0).astype(w.data.dtype)
        rows.append({"op": op.index, "opcode": op.opcode, "weights": int(w.data.size),
                     "nonzero_before": before, "nonzero_after": int(np.count_nonzero(w.data))})
    return result, rows
