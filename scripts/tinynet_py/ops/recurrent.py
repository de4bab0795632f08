"""UNIDIRECTIONAL_SEQUENCE_LSTM: TFLM's LSTM kernel (micro/kernels/unidirectional_sequence_lstm.cc,
lstm_eval.h/.cc, lstm_eval_common.cc), int8 activations with an int16 cell state and float32.

TFLM's kernel runs the standard (Keras) LSTM only: all four gates (no CIFG), no peephole, no
projection, no layer normalization (LstmTensors::ValidateTensorStatus refuses those tensors), so
tinynet refuses them with the same reasons.  Per time step and batch row, every gate is

    gate = act(clamp16(FC(x)) +sat clamp16(FC(h)))     (FC: int8 x int8 -> int16, scale 2^-12)

with act the int16 sigmoid (forget, input, output gates) or tanh (cell gate; Q3.12 in, Q0.15 out),
then cell = clamp16(f * cell) +sat clamp16(i * g) (clipped to +-cell_clip), and
hidden = tanh(cell) * o requantized to the hidden state (int8), which is also the step's output.

The hidden and cell state are variable tensors: state kept across invokes (docs/design.md,
"State"), starting at TFLM's ResetVariableTensor values (int8 hidden: its zero point, int16 cell: 0).
"""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .common import fc_per_tensor_multiplier

# lstm_shared.h tensor positions.
INPUT = 0
INPUT_TO_GATE = (1, 2, 3, 4)          # input, forget, cell, output gate
RECURRENT_TO_GATE = (5, 6, 7, 8)
PEEPHOLE = (9, 10, 11)
GATE_BIAS = (12, 13, 14, 15)
PROJECTION = (16, 17)
HIDDEN_STATE, CELL_STATE = 18, 19
LAYER_NORM = (20, 21, 22, 23)
GATES = ("input", "forget", "cell", "output")

GATE_INPUT_SCALE = 2.0 ** -12     # PrepareGateParametersInteger: the FC outputs are Q3.12
GATE_OUTPUT_SCALE = 2.0 ** -15    # the sigmoid / tanh outputs are Q0.15


def _tanh_input_scaling(cell_state_scale_power):
    """lstm_internal::Tanh: the (multiplier, left shift) it hands reference_integer_ops::Tanh for
    a cell state of scale 2^power (multiplier 0 means 3 << shift)."""
    left_shift = (15 + cell_state_scale_power) - 3
    if left_shift < 0:
        return 3, -left_shift
    return 0, left_shift


def prepare_unidirectional_sequence_lstm(ctx):
    op = ctx.op
    if len(op.inputs) != 24 or len(op.outputs) != 1:
        ctx.fail(f"expects 24 inputs and 1 output (TFLite's LSTM layout), has {len(op.inputs)} and "
                 f"{len(op.outputs)}")
    options = op.options
    for name, positions in (("peephole (cell-to-gate weights)", PEEPHOLE),
                            ("projection", PROJECTION),
                            ("layer normalization", LAYER_NORM)):
        if any(ctx.input(k) is not None for k in positions):
            ctx.fail(f"an LSTM with {name} is not supported: TFLM's LSTM kernel runs the standard "
                     f"LSTM only (no peephole, projection or layer norm), and so does tinynet")
    required = (INPUT,) + INPUT_TO_GATE + RECURRENT_TO_GATE + GATE_BIAS + (HIDDEN_STATE, CELL_STATE)
    missing = [k for k in required if ctx.input(k) is None]
    if missing:
        what = ("the input gate (CIFG)" if set(missing) & {1, 5, 12} else f"inputs {missing}")
        ctx.fail(f"an LSTM without {what} is not supported: TFLM's LSTM kernel needs all four "
                 f"gates' weights and biases and both state tensors")
    if options.get("asymmetric_quantize_inputs") or options.get("diagonal_recurrent_tensors"):
        ctx.fail("asymmetric_quantize_inputs and diagonal_recurrent_tensors are not supported "
                 "(TFLM's LSTM kernel does not read them)")
    if options.get("fused_activation_function") != "TANH":
        ctx.fail(f"cell gate activation {options.get('fused_activation_function')} is not supported "
                 f"(TFLM's LSTM kernel runs TANH)")
    cell_clip = np.float32(options.get("cell_clip", 0.0))
    if cell_clip < 0:
        ctx.fail(f"cell_clip {float(cell_clip)} must be >= 0 (0: no clipping)")
    if np.float32(options.get("proj_clip", 0.0)) != 0:
        ctx.fail("proj_clip needs a projection, which is not supported")

    inp, out = ctx.input(INPUT), ctx.output()
    hidden, cell = ctx.input(HIDDEN_STATE), ctx.input(CELL_STATE)
    for t, role in ((hidden, "hidden state"), (cell, "cell state")):
        if not t.is_variable:
            ctx.fail(f"the {role} tensor '{t.name}' must be a variable tensor (TFLM requires it)")
    if len(inp.shape) != 3:
        ctx.fail(f"the input must be 3-D ([batch, time, features] or time-major), has shape {inp.shape}")
    time_major = bool(options.get("time_major", False))
    batches, steps = (inp.shape[1], inp.shape[0]) if time_major else (inp.shape[0], inp.shape[1])
    depth = inp.shape[2]
    if len(hidden.shape) != 2:
        ctx.fail(f"the hidden state must be 2-D [batch, units], has shape {hidden.shape}")
    units = hidden.shape[1]
    for k in INPUT_TO_GATE + RECURRENT_TO_GATE:
        w = ctx.input(k)
        want = (units, depth if k in INPUT_TO_GATE else units)
        if tuple(w.shape) != want:
            ctx.fail(f"weights tensor '{w.name}' has shape {w.shape}, expected {want}")
        ctx.require_constant(w, "weights")
    for k in GATE_BIAS:
        b = ctx.input(k)
        if tuple(b.shape) != (units,):
            ctx.fail(f"bias tensor '{b.name}' has shape {b.shape}, expected ({units},)")
        ctx.require_constant(b, "bias")
    for t, role in ((hidden, "hidden state"), (cell, "cell state")):
        if t.num_elements != batches * units:
            ctx.fail(f"the {role} holds {t.num_elements} values, expected batch x units = "
                     f"{batches * units}")
    if len(out.shape) != 3 or tuple(out.shape[:2]) != tuple(inp.shape[:2]) or out.shape[2] != units:
        ctx.fail(f"output shape {out.shape} does not match input {inp.shape} and {units} units")
    if hidden.dtype != inp.dtype or out.dtype != inp.dtype:
        ctx.fail(f"input, hidden state and output must have one dtype, have {inp.dtype}, "
                 f"{hidden.dtype}, {out.dtype}")
    weights = [ctx.input(k) for k in INPUT_TO_GATE + RECURRENT_TO_GATE]
    biases = [ctx.input(k) for k in GATE_BIAS]
    plan = {"dtype": inp.dtype, "time_major": time_major, "batches": batches, "steps": steps,
            "depth": depth, "units": units, "cell_clip": cell_clip,
            "input_weights": np.stack([w.data for w in weights[:4]]),
            "recurrent_weights": np.stack([w.data for w in weights[4:]]),
            "bias": np.stack([b.data for b in biases])}
    if inp.dtype == "float32":
        for t in weights + biases + [cell]:
            ctx.require_dtypes(t, ("float32",), "weights, bias and cell state")
        return plan
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    for w in weights:
        ctx.require_dtypes(w, ("int8",), "weights")
        if w.per_channel or not w.is_quantized or int(w.zero_point[0]) != 0:
            ctx.fail(f"weights tensor '{w.name}' must be quantized per tensor with zero point 0")
    for b in biases:
        ctx.require_dtypes(b, ("int32",), "bias")
    ctx.require_dtypes(cell, ("int16",), "cell state (TFLM's integer LSTM keeps it in int16)")
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    hidden_scale, hidden_zp = ctx.per_tensor_quant(hidden, "hidden state")
    cell_scale, cell_zp = ctx.per_tensor_quant(cell, "cell state")
    if cell_zp != 0:
        ctx.fail(f"the cell state must have zero point 0 (TFLM's arithmetic assumes it), has {cell_zp}")
    # PrepareGateParametersInteger / CreateGateParams: each gate's two FullyConnected layers
    # rescale to 2^-12 as CalculateOpDataFullyConnected does (the float product of the scales).
    gate_multipliers = []
    for k, scale in ((INPUT_TO_GATE, in_scale), (RECURRENT_TO_GATE, hidden_scale)):
        for position in k:
            real = fc_per_tensor_multiplier(scale, ctx.input(position).scale[0], GATE_INPUT_SCALE)
            gate_multipliers.append(_quantize(ctx, real))
    # CreateInterGateMulParams: double(scale1) * double(scale2) / double(output scale).
    power = fp.checked_log2(cell_scale)[1]      # CreateLstmCellStateInfo ignores "exact"
    plan.update({
        "input_zero_point": in_zp, "hidden_zero_point": hidden_zp,
        "input_multipliers": gate_multipliers[:4], "recurrent_multipliers": gate_multipliers[4:],
        "forget_times_cell": _quantize(ctx, GATE_OUTPUT_SCALE * float(cell_scale) / float(cell_scale)),
        "input_times_cell_gate": _quantize(ctx, GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE / float(cell_scale)),
        "output_times_tanh": _quantize(ctx, GATE_OUTPUT_SCALE * GATE_OUTPUT_SCALE / float(hidden_scale)),
        "cell_tanh": _tanh_input_scaling(power),
        # CreateLstmCellStateInfo: clip / scale in double, clamped to int16, truncated.
        "quantized_cell_clip": int(min(max(float(cell_clip) / float(cell_scale), -32768.0), 32767.0)),
    })
    return plan


def _quantize(ctx, real):
    try:
        return fp.quantize_multiplier(real)
    except fp.MultiplierRangeError as e:
        ctx.fail(f"{e} (check the scales of the input, weights and state tensors)")


def _mbqm(x, multiplier_shift):
    return fp.multiply_by_quantized_multiplier(fp.wrap32(x), *multiplier_shift)


def _clamp16(x):
    return np.clip(x, -32768, 32767)


def _step_int8(plan, x, h, c):
    """One time step of lstm_internal::LstmStep<int8_t, int8_t, int16_t, int32_t> for the rows of
    x [rows, depth], h [rows, units] (int8) and c [rows, units] (int16); returns the new h, c."""
    gates = []
    for g in range(4):
        # CalculateLstmGate: the two FullyConnected (int16 out, clamped), their saturating sum.
        acc = fp_dot(x - plan["input_zero_point"], plan["input_weights"][g]) + plan["bias"][g]
        from_input = _clamp16(_mbqm(acc, plan["input_multipliers"][g]))
        acc = fp_dot(h - plan["hidden_zero_point"], plan["recurrent_weights"][g])
        from_hidden = _clamp16(_mbqm(acc, plan["recurrent_multipliers"][g]))
        z = _clamp16(from_input + from_hidden)
        gates.append(fp.tanh_int16(z, 0, 0) if GATES[g] == "cell" else fp.logistic_int16(z, 0, 0))
    i, f, g_, o = (gate.astype(np.int64) for gate in gates)
    # UpdateLstmCell: two int16 Mul (MulElementwise), a saturating add, the clip.
    c = _clamp16(_mbqm(f * c, plan["forget_times_cell"]))
    c = _clamp16(c + _clamp16(_mbqm(i * g_, plan["input_times_cell_gate"])))
    if plan["cell_clip"] > 0:
        c = np.clip(c, -plan["quantized_cell_clip"], plan["quantized_cell_clip"])
    # UpdateLstmHidden: tanh of the cell state, times the output gate, requantized to int8.
    tanh_c = fp.tanh_int16(c, *plan["cell_tanh"]).astype(np.int64)
    h = np.clip(_mbqm(tanh_c * o, plan["output_times_tanh"]) + plan["hidden_zero_point"], -128, 127)
    return h, c


def fp_dot(rows, weights):
    """rows [n, depth] x weights [units, depth]^T, exact in int64."""
    return np.asarray(rows, np.int64) @ np.asarray(weights, np.int64).T


def _sigmoid_float(x):
    """reference_ops::Logistic (float): exp(x) below -9, 1 above 16.619047, else 1 / (1 + exp(-x))."""
    x = np.asarray(x, np.float32)
    with np.errstate(over="ignore"):
        middle = np.float32(1) / (np.float32(1) + np.exp(-x))
    return np.where(x > np.float32(16.619047164916992188), np.float32(1),
                    np.where(x < np.float32(-9), np.exp(x), middle)).astype(np.float32)


def _step_float(plan, x, h, c):
    """lstm_internal::LstmStep<float, float, float, float>."""
    f32 = np.float32
    gates = []
    for g in range(4):
        z = ((x @ plan["input_weights"][g].T).astype(f32) + plan["bias"][g]
             + (h @ plan["recurrent_weights"][g].T).astype(f32)).astype(f32)
        gates.append(np.tanh(z).astype(f32) if GATES[g] == "cell" else _sigmoid_float(z))
    i, f, g_, o = gates
    c = (f * c + i * g_).astype(f32)
    if plan["cell_clip"] > 0:
        c = np.clip(c, -plan["cell_clip"], plan["cell_clip"])
    return (np.tanh(c).astype(f32) * o).astype(f32), c


def run_unidirectional_sequence_lstm(plan, *inputs):
    """EvalLstm: time-major inputs run every batch row per step; batch-major ones each row's
    sequence in turn.  The hidden and cell state (inputs 18 and 19) are updated in place."""
    x, hidden, cell = inputs[INPUT], inputs[HIDDEN_STATE], inputs[CELL_STATE]
    batches, steps, units = plan["batches"], plan["steps"], plan["units"]
    is_float = plan["dtype"] == "float32"
    step = _step_float if is_float else _step_int8
    x = np.asarray(x, np.float32 if is_float else np.int64)
    if plan["time_major"]:
        x = x.transpose(1, 0, 2)           # [batch, time, depth] either way from here
    h = np.asarray(hidden).reshape(batches, units).astype(np.float32 if is_float else np.int64)
    c = np.asarray(cell).reshape(batches, units).astype(np.float32 if is_float else np.int64)
    out = np.zeros((batches, steps, units), x.dtype)
    for t in range(steps):
        h, c = step(plan, x[:, t, :], h, c)
        out[:, t, :] = h
    hidden[...] = h.reshape(np.shape(hidden))
    cell[...] = c.reshape(np.shape(cell))
    if plan["time_major"]:
        out = out.transpose(1, 0, 2)
    return out


# --- C++ emission ----------------------------------------------------------------------

def _multiplier(m):
    return f"{{{int(m[0])}, {int(m[1])}}}"


def emit_unidirectional_sequence_lstm(e, op, plan, prefix, ins, outs):
    is_float = plan["dtype"] == "float32"
    ctype = "float" if is_float else "std::int8_t"
    e.add_array(ctype, f"{prefix}_input_weights", plan["input_weights"])
    e.add_array(ctype, f"{prefix}_recurrent_weights", plan["recurrent_weights"])
    e.add_array("float" if is_float else "std::int32_t", f"{prefix}_bias", plan["bias"])
    fields = [f".time_major = {'true' if plan['time_major'] else 'false'}",
              f".cell_clip = {e.cpp_float(plan['cell_clip'])}"]
    if not is_float:
        fields += [
            ".input_to_gate = {" + ", ".join(_multiplier(m) for m in plan["input_multipliers"]) + "}",
            ".recurrent_to_gate = {" + ", ".join(_multiplier(m) for m in plan["recurrent_multipliers"]) + "}",
            f".forget_times_cell = {_multiplier(plan['forget_times_cell'])}",
            f".input_times_cell_gate = {_multiplier(plan['input_times_cell_gate'])}",
            f".output_times_tanh = {_multiplier(plan['output_times_tanh'])}",
            f".cell_tanh = {_multiplier(plan['cell_tanh'])}",
            f".quantized_cell_clip = {plan['quantized_cell_clip']}",
        ]
    e.constant_line(f"inline constexpr tinynet::LstmParams {prefix}_params{{\n    "
                    + ",\n    ".join(fields) + "};\n")
    return (f"tinynet::UnidirectionalSequenceLstm<{ins[0]}, {ins[1]}, {ins[2]}, {outs[0]},\n"
            f"    {prefix}_input_weights, "
            f"{prefix}_recurrent_weights, {prefix}_bias, {prefix}_params>")


def macs_unidirectional_sequence_lstm(model, op):
    inp = model.tensors[op.inputs[INPUT]]
    units = model.tensors[op.inputs[INPUT_TO_GATE[0]]].shape[0]
    depth = inp.shape[2]
    return int(inp.shape[0] * inp.shape[1]) * 4 * units * (depth + units)


def params_unidirectional_sequence_lstm(op):
    return "time-major" if op.options.get("time_major") else "batch-major"


def lstm_table_bytes(model, op):
    """Flash besides the weights: the int8 path's folded biases (input and recurrent, int32 per
    gate and unit) and TFLM's sigmoid table."""
    if model.tensors[op.inputs[INPUT]].dtype == "float32":
        return 0
    units = model.tensors[op.inputs[INPUT_TO_GATE[0]]].shape[0]
    return 2 * 4 * units * 4 + 256 * 2


_LSTM_FIELDS = [
    (0, "fused_activation_function", "activation", 0), (1, "cell_clip", "float32", 0.0),
    (2, "proj_clip", "float32", 0.0), (3, "time_major", "bool", False),
    (4, "asymmetric_quantize_inputs", "bool", False), (5, "diagonal_recurrent_tensors", "bool", False),
]

SPECS = [
    OpSpec("UNIDIRECTIONAL_SEQUENCE_LSTM", (71, "UnidirectionalSequenceLSTMOptions", _LSTM_FIELDS),
           prepare_unidirectional_sequence_lstm, run_unidirectional_sequence_lstm,
           emit_unidirectional_sequence_lstm, data_inputs=(INPUT, HIDDEN_STATE, CELL_STATE), weights=True,
           macs=macs_unidirectional_sequence_lstm, params_text=params_unidirectional_sequence_lstm,
           requant_table_bytes=lstm_table_bytes),
]
