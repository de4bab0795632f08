"""Per-layer statistics and a memory plan for a model: what `tinynet inspect` prints.

The arena estimate follows the plan described in docs/design.md ("The arena plan"):
every non-constant tensor lives from the step that produces it (graph inputs: from the
start) to the last step that reads it (graph outputs: to the end); the output of an alias
op (RESHAPE) shares its input's buffer; buffers are placed greedily, largest first, at the lowest
16-byte-aligned offset that overlaps no buffer alive at the same time. It is an estimate made
without a compiler: `tinynet report` draws the compiled plan itself (report.compiled_arena_plan),
which also shares the buffers of in-place element-wise ops.
"""

import numpy as np

from .data import layout_lines
from .ops import REGISTRY, aliases

ALIGNMENT = 16


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


def layer_table(model):
    """One dict per op: index, op, name, inputs (activations), state (shapes of the state tensors
    it reads and updates in place), output, params, macs, weight_bytes, activation_bytes (bytes of
    the op's output), state_bytes (bytes of its state tensors that no earlier op already counted:
    a state tensor's RAM is counted once)."""
    rows = []
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


def _lifetimes(model):
    """Buffers to place: list of dicts with tensors, size, first step, last step."""
    t = model.tensors
    steps = len(model.ops)
    parent = {}

    def root(i):
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    # An alias op's output is its input (no copy, e.g. RESHAPE).
    for op in model.ops:
        if t[op.inputs[0]].data is None and aliases(model, op):
            parent[root(op.outputs[0])] = root(op.inputs[0])
    groups = {}

    def touch(i, step):
        if i < 0 or t[i].data is not None:
            return
        g = groups.setdefault(root(i), {"tensors": set(), "size": 0, "first": step, "last": step})
        g["tensors"].add(i)
        g["size"] = max(g["size"], t[i].nbytes)
        g["first"] = min(g["first"], step)
        g["last"] = max(g["last"], step)

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
    if state:
        groups["state marker"] = {"tensors": set(), "size": ALIGNMENT, "first": -1, "last": steps}
    return list(groups.values())


def arena_plan(model, alignment=ALIGNMENT):
    """Greedy placement; returns (arena_bytes, peak_live_bytes, buffers with offsets)."""
    buffers = sorted(_lifetimes(model), key=lambda b: (-b["size"], b["first"]))
    placed = []
    for b in buffers:
        conflicts = sorted((p["offset"], p["offset"] + p["size"]) for p in placed
                           if not (p["last"] < b["first"] or b["last"] < p["first"]))
        offset = 0
        for start, end in conflicts:
            if offset + b["size"] <= start:
                break
            offset = max(offset, -(-end // alignment) * alignment)
        b["offset"] = offset
        placed.append(b)
    # The compiled plan (include/tinynet/graph/arena_plan.hpp) rounds every buffer up to the
    # alignment, so the arena ends on a multiple of it too.
    arena = max((-(-(b["offset"] + b["size"]) // alignment) * alignment for b in placed), default=0)
    steps = range(-1, len(model.ops) + 1)
    peak = max((sum(b["size"] for b in placed if b["first"] <= s <= b["last"]) for s in steps),
               default=0)
    return int(arena), int(peak), placed


def summary(model):
    rows = layer_table(model)
    arena, peak, _ = arena_plan(model)
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
        "totals": {
            "ops": len(rows),
            "macs": int(sum(r["macs"] for r in rows)),
            "nonzero_macs": int(sum(r["nonzero_macs"] for r in rows)),
            "weight_bytes": int(weight_bytes(model)),
            "state_bytes": int(sum(model.tensors[i].nbytes for i in model.state_tensors())),
            "constant_bytes": int(weights),
            "requant_table_bytes": int(tables),
            "flash_estimate_bytes": int(weights + tables),
            "arena_estimate_bytes": arena,
            "peak_live_activation_bytes": peak,
        },
    }
