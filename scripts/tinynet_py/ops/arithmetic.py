"""Element-wise arithmetic: ADD, SUB, MUL, DIV, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM (two
operands with numpy broadcasting; MUL, DIV, SQUARED_DIFFERENCE, MAXIMUM and MINIMUM take a
constant operand as a tinynet::ConstantTensor), ABS and NEG; EXP, LOG, SQRT (float32 only in TFLM) and
RSQRT (float32, and int8/int16 through the quantized path it shares with ABS)."""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .common import INT_RANGES, activation_range_float, activation_range_quantized, int8_table_bytes


def _prepare_add_sub(ctx, float_multipliers):
    ctx.require_inputs(2)
    a, b, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_dtypes(out, ("int8", "int16", "float32"), "output")
    for t, role in ((a, "first input"), (b, "second input")):
        if t.dtype != out.dtype:
            ctx.fail(f"{role} has dtype {t.dtype}, the output {out.dtype}")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        ctx.fail(f"input shapes {a.shape} and {b.shape} do not broadcast")
    if tuple(shape) != tuple(out.shape) and int(np.prod(shape)) != out.num_elements:
        ctx.fail(f"inputs broadcast to {tuple(shape)}, the output is {out.shape}")
    activation = ctx.op.options.get("fused_activation_function", "NONE")
    plan = {"dtype": out.dtype}
    if out.dtype == "float32":
        plan["act_min"], plan["act_max"] = activation_range_float(ctx, activation)
        return plan
    s1, z1 = ctx.per_tensor_quant(a, "first input")
    s2, z2 = ctx.per_tensor_quant(b, "second input")
    so, zo = ctx.per_tensor_quant(out, "output")
    left_shift = 15 if out.dtype == "int16" else 20
    if float_multipliers:
        # CalculateOpDataSub in TFLM's 2025 sub_common.cc divides in float.  Not used: the
        # int16 SUB conformance goldens (sub0, sub1, sub3) match only the double form below,
        # which older TFLM sub.cc computes (its float steps, 2 * max and 2^k * scale, are
        # exact, so it equals all-double).
        twice_max = np.float32(2) * np.float32(max(s1, s2))
        real1 = np.float64(np.float32(s1 / twice_max))
        real2 = np.float64(np.float32(s2 / twice_max))
        real_out = np.float64(np.float32(twice_max / (np.float32(1 << left_shift) * so)))
    else:
        # CalculateOpDataAdd (micro/kernels/add_common.cc) divides in double; so did the
        # TFLM that produced the SUB goldens.
        twice_max = 2.0 * np.float64(max(s1, s2))
        real1 = np.float64(s1) / twice_max
        real2 = np.float64(s2) / twice_max
        real_out = twice_max / ((1 << left_shift) * np.float64(so))
    _rescaling_plan(ctx, plan, ((real1, "input1"), (real2, "input2"), (real_out, "output")))
    plan.update(left_shift=left_shift, input1_offset=-z1, input2_offset=-z2, output_offset=zo)
    plan["act_min"], plan["act_max"] = activation_range_quantized(ctx, activation, out)
    return plan


def _rescaling_plan(ctx, plan, factors):
    """QuantizeMultiplierSmallerThanOneExp of each (real factor, name) into plan[name_multiplier],
    plan[name_shift]: the factors must lie in (0, 1)."""
    for real, name in factors:
        if not 0.0 < real < 1.0:
            ctx.fail(f"the {name} rescaling factor {real} is not in (0, 1): the scales are "
                     f"outside what TFLM supports")
        plan[f"{name}_multiplier"], plan[f"{name}_shift"] = fp.quantize_multiplier(real)


def _scaled_inputs(plan, a, b):
    """The common front of AddElementwise / SubElementwise (internal/reference/add.h,
    sub.h): offset, shift left, rescale each input to the common scale."""
    def scale(x, offset, multiplier, shift):
        shifted = fp.wrap32((x.astype(np.int64) + offset) << plan["left_shift"])
        return fp.multiply_by_quantized_multiplier_smaller_than_one_exp(shifted, multiplier, shift)
    return (scale(a, plan["input1_offset"], plan["input1_multiplier"], plan["input1_shift"]),
            scale(b, plan["input2_offset"], plan["input2_multiplier"], plan["input2_shift"]))


def _finish(plan, raw):
    result = fp.multiply_by_quantized_multiplier_smaller_than_one_exp(
        fp.wrap32(raw), plan["output_multiplier"], plan["output_shift"]) + plan["output_offset"]
    return np.clip(result, plan["act_min"], plan["act_max"])


def prune_join_same_shape(model, op):
    """Neuron pruning: an element-wise op of activations of the output's shape (no broadcast, no
    constant operand) adds channel c to channel c: its inputs and output share their channels."""
    out = model.tensors[op.outputs[0]].shape
    inputs = [model.tensors[i] for i in op.inputs if i >= 0]
    return len(inputs) >= 2 and all(t.data is None and tuple(t.shape) == tuple(out) for t in inputs)


def prepare_add(ctx):
    return _prepare_add_sub(ctx, float_multipliers=False)


def run_add(plan, a, b):
    """reference_integer_ops::Add / reference_ops::AddElementwise (int16 general scale,
    the only path TFLM takes) / reference_ops::Add (float); broadcasting as numpy."""
    if plan["dtype"] == "float32":
        return np.clip(a + b, plan["act_min"], plan["act_max"])
    x, y = _scaled_inputs(plan, a, b)
    return _finish(plan, x + y)


def prepare_sub(ctx):
    return _prepare_add_sub(ctx, float_multipliers=False)


def run_sub(plan, a, b):
    """reference_ops::Sub / BroadcastQuantSubSlow (internal/reference/sub.h)."""
    if plan["dtype"] == "float32":
        return np.clip(a - b, plan["act_min"], plan["act_max"])
    x, y = _scaled_inputs(plan, a, b)
    return _finish(plan, x - y)




def emit_add_sub(e, op, plan, prefix, ins, outs):
    kind = "Add" if op.opcode == "ADD" else "Sub"
    return (f"tinynet::{kind}<{ins[0]}, {ins[1]}, {outs[0]}, "
            f"tinynet::ArithmeticOptions{{{e.activation(op)}}}>")


# --- MUL, DIV, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, ABS, NEG (issue 12) ---------------------

def _binary(ctx, allowed):
    """Two operands of the output's dtype broadcasting (numpy's rule, TFLM's
    NdArrayDescsForElementwiseBroadcast) to exactly the output's shape."""
    ctx.require_inputs(2)
    a, b, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_dtypes(out, allowed, "output")
    for t, role in ((a, "first input"), (b, "second input")):
        if t.dtype != out.dtype:
            ctx.fail(f"{role} has dtype {t.dtype}, the output {out.dtype}")
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        ctx.fail(f"input shapes {tuple(a.shape)} and {tuple(b.shape)} do not broadcast")
    if tuple(shape) != tuple(out.shape):
        ctx.fail(f"inputs broadcast to {tuple(shape)}, the output is {tuple(out.shape)}")
    return a, b, out


def _unary(ctx, allowed):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, allowed, "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    return inp, out


def _require_zero_points_zero(ctx, tensors, what):
    for t in tensors:
        if t.zero_point_scalar != 0:
            ctx.fail(f"{what} needs zero points 0, as TFLM (tensor '{t.name}' has {t.zero_point_scalar})")


def _fused(ctx):
    return ctx.op.options.get("fused_activation_function", "NONE")


def prepare_mul(ctx):
    """CalculateOpDataMul (micro/kernels/mul_common.cc)."""
    a, b, out = _binary(ctx, ("int8", "int16", "float32"))
    plan = {"dtype": out.dtype}
    if out.dtype == "float32":
        plan["act_min"], plan["act_max"] = activation_range_float(ctx, _fused(ctx))
        return plan
    s1, z1 = ctx.per_tensor_quant(a, "first input")
    s2, z2 = ctx.per_tensor_quant(b, "second input")
    so, zo = ctx.per_tensor_quant(out, "output")
    if out.dtype == "int16":
        _require_zero_points_zero(ctx, (a, b, out), "int16 MUL")
    plan["multiplier"], plan["shift"] = fp.quantize_multiplier(np.float64(s1) * np.float64(s2) / np.float64(so))
    plan.update(input1_offset=-z1, input2_offset=-z2, output_offset=zo)
    plan["act_min"], plan["act_max"] = activation_range_quantized(ctx, _fused(ctx), out)
    return plan


def run_mul(plan, a, b):
    """reference_integer_ops::MulElementwise / BroadcastMul4DSlow (internal/reference/integer_ops/
    mul.h); reference_ops::Mul (float)."""
    if plan["dtype"] == "float32":
        return np.clip(a * b, plan["act_min"], plan["act_max"]).astype(np.float32)
    product = (a.astype(np.int64) + plan["input1_offset"]) * (b.astype(np.int64) + plan["input2_offset"])
    result = fp.multiply_by_quantized_multiplier(product, plan["multiplier"], plan["shift"]) + plan["output_offset"]
    return np.clip(result, plan["act_min"], plan["act_max"])


def prepare_div(ctx):
    """CalculateOpDataDiv (micro/kernels/div.cc): int8 and float32."""
    a, b, out = _binary(ctx, ("int8", "float32"))
    plan = {"dtype": out.dtype}
    if out.dtype == "float32":
        plan["act_min"], plan["act_max"] = activation_range_float(ctx, _fused(ctx))
        return plan
    s1, z1 = ctx.per_tensor_quant(a, "first input")
    s2, z2 = ctx.per_tensor_quant(b, "second input")
    so, zo = ctx.per_tensor_quant(out, "output")
    # static_cast<double>(input1_scale / (input2_scale * output_scale)): the ratio in float.
    plan["multiplier"], plan["shift"] = fp.quantize_multiplier(np.float64(np.float32(s1 / np.float32(s2 * so))))
    if plan["shift"] > 23:
        ctx.fail(f"the scales give a rescale factor of 2^{plan['shift'] - 1} or more, for which TFLM's "
                 f"DIV shifts by a negative amount")
    if b.data is not None and np.any(b.data.astype(np.int64) == z2):
        ctx.fail(f"the constant divisor '{b.name}' has an element at its zero point: a division by zero")
    plan.update(input1_offset=-z1, input2_offset=-z2, output_offset=zo)
    plan["act_min"], plan["act_max"] = activation_range_quantized(ctx, _fused(ctx), out)
    return plan


def _leading_sign_bits(x):
    """CountLeadingSignBits for int32 (31 for 0)."""
    x = np.asarray(x, np.int64)
    return fp.count_leading_zeros32(np.where(x >= 0, x, ~x)) - 1


def run_div(plan, a, b):
    """reference_ops::DivElementwise / BroadcastDivSlow (internal/reference/div.h). When the
    final rounding shift reaches 32 (a dividend at or next to its zero point), TFLM's compiled
    gemmlowp RoundingDivideByPOT has an all-ones mask and shifts by the exponent modulo 32; its
    goldens show it (0 / b gives the zero point plus one), so it is reproduced. A divisor at its
    zero point (a division by zero, undefined in TFLM) gives the output zero point, as the C++."""
    if plan["dtype"] == "float32":
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.clip((a / b).astype(np.float32), plan["act_min"], plan["act_max"])
    x1, x2 = np.broadcast_arrays(a.astype(np.int64) + plan["input1_offset"],
                                 b.astype(np.int64) + plan["input2_offset"])
    dividend = np.where(x2 < 0, -x1, x1)
    divisor = np.abs(x2)
    zero = divisor == 0
    reciprocal, reciprocal_shift = fp.get_reciprocal(np.where(zero, 1, divisor), 31)
    headroom = _leading_sign_bits(dividend)
    unscaled = fp.multiply_by_quantized_multiplier_greater_than_one(dividend, reciprocal, headroom)
    exponent = headroom + reciprocal_shift - plan["shift"]
    x = fp.srdhm(unscaled, plan["multiplier"])
    normal = fp.rounding_divide_by_pot(x, np.minimum(exponent, 31))
    wide = (x >> (exponent & 31)) + (x > np.where(x < 0, 0, -1))
    result = np.where(exponent <= 31, normal, wide) + plan["output_offset"]
    return np.clip(np.where(zero, plan["output_offset"], result), plan["act_min"], plan["act_max"])


def prepare_squared_difference(ctx):
    """SquaredDifferencePrepare / PrepareQuantized (micro/kernels/squared_difference.cc): the inputs
    rescaled as ADD's, with a left shift of 7 (int8) or 0 (int16)."""
    a, b, out = _binary(ctx, ("int8", "int16", "float32"))
    plan = {"dtype": out.dtype}
    if out.dtype == "float32":
        return plan
    s1, z1 = ctx.per_tensor_quant(a, "first input")
    s2, z2 = ctx.per_tensor_quant(b, "second input")
    so, zo = ctx.per_tensor_quant(out, "output")
    if out.dtype == "int16":
        _require_zero_points_zero(ctx, (a, b, out), "int16 SQUARED_DIFFERENCE")
    left_shift = 0 if out.dtype == "int16" else 7
    twice_max = 2.0 * np.float64(max(s1, s2))
    _rescaling_plan(ctx, plan, ((np.float64(s1) / twice_max, "input1"), (np.float64(s2) / twice_max, "input2")))
    # (1 << left_shift * 2) * output_scale is an int times a float: a float product.
    real_out = twice_max * twice_max / np.float64(np.float32(1 << (2 * left_shift)) * so)
    plan["output_multiplier"], plan["output_shift"] = fp.quantize_multiplier(real_out)
    plan.update(left_shift=left_shift, input1_offset=-z1, input2_offset=-z2, output_offset=zo,
                range=INT_RANGES[out.dtype])
    return plan


def run_squared_difference(plan, a, b):
    """SquaredDifference(x, y, params) (squared_difference.cc); float: (x - y)^2 in float."""
    if plan["dtype"] == "float32":
        d = (a - b).astype(np.float32)
        return (d * d).astype(np.float32)
    x, y = _scaled_inputs(plan, a, b)
    d = x - y
    result = fp.multiply_by_quantized_multiplier(d * d, plan["output_multiplier"], plan["output_shift"])
    return np.clip(result + plan["output_offset"], *plan["range"])


def prepare_maximum_minimum(ctx):
    """maximum_minimum.cc has no Prepare: raw values compared, quantization not read."""
    _, _, out = _binary(ctx, ("int8", "int16", "float32"))
    return {"dtype": out.dtype}


def run_maximum(plan, a, b):
    """MaximumOp::op: el1 > el2 ? el1 : el2 (a NaN first operand gives the second)."""
    a, b = np.broadcast_arrays(a, b)
    return np.where(a > b, a, b)


def run_minimum(plan, a, b):
    """MinimumOp::op: el1 < el2 ? el1 : el2."""
    a, b = np.broadcast_arrays(a, b)
    return np.where(a < b, a, b)


def prepare_abs(ctx):
    """PrepareAbsRsqrt (micro/kernels/elementwise.cc). int16 without quantization parameters
    takes the raw value's std::abs."""
    inp, out = _unary(ctx, ("int8", "int16", "float32"))
    plan = {"dtype": out.dtype, "raw": inp.dtype == "int16" and not inp.is_quantized}
    if inp.dtype == "float32" or plan["raw"]:
        return plan
    s_in, z_in = ctx.per_tensor_quant(inp, "input")
    s_out, z_out = ctx.per_tensor_quant(out, "output")
    if inp.dtype == "int16":
        _require_zero_points_zero(ctx, (inp, out), "quantized int16 ABS")
    plan.update(input_zero_point=z_in, output_offset=z_out, range=INT_RANGES[out.dtype],
                needs_rescale=bool(s_in != s_out))
    if plan["needs_rescale"]:
        plan["multiplier"], plan["shift"] = fp.quantize_multiplier(np.float64(s_in) / np.float64(s_out))
    return plan


def run_abs(plan, x):
    """AbsEvalQuantized (elementwise.cc); std::abs for float and unquantized int16."""
    if plan["dtype"] == "float32":
        return np.abs(x).astype(np.float32)
    if plan["raw"]:
        return np.abs(x.astype(np.int64)).astype(np.int16)     # abs(-32768) wraps back, as the cast
    value = np.abs(x.astype(np.int64) - plan["input_zero_point"])
    if plan["needs_rescale"]:
        value = fp.multiply_by_quantized_multiplier(value, plan["multiplier"], plan["shift"])
    return np.clip(value + plan["output_offset"], *plan["range"])


def prepare_neg(ctx):
    """neg.cc: float32 only (TFLM has no integer kernel)."""
    _unary(ctx, ("float32",))
    return {"dtype": "float32"}


def run_neg(plan, x):
    """reference_ops::Negate."""
    return (-x).astype(np.float32)


def _divisor_table_bytes(model, op):
    """An int8 DIV by a constant keeps 5 bytes per divisor element (reciprocal and shift)."""
    divisor = model.tensors[op.inputs[1]]
    return 5 * divisor.num_elements if divisor.data is not None and divisor.dtype == "int8" else 0


def emit_mul_div(e, op, plan, prefix, ins, outs):
    kind = "Mul" if op.opcode == "MUL" else "Div"
    return (f"tinynet::{kind}<{ins[0]}, {ins[1]}, {outs[0]}, "
            f"tinynet::ArithmeticOptions{{{e.activation(op)}}}>")


def emit_binary(e, op, plan, prefix, ins, outs):
    kind = {"SQUARED_DIFFERENCE": "SquaredDifference", "MAXIMUM": "Maximum", "MINIMUM": "Minimum"}[op.opcode]
    return f"tinynet::{kind}<{ins[0]}, {ins[1]}, {outs[0]}>"


def emit_unary(e, op, plan, prefix, ins, outs):
    return f"tinynet::{'Abs' if op.opcode == 'ABS' else 'Neg'}<{ins[0]}, {outs[0]}>"


# --- EXP, LOG, SQRT, RSQRT (issue 12) -----------------------------------------------------------

def prepare_float_math(ctx):
    """exp.cc (ExpPrepare) and elementwise.cc (GenericPrepare<IsFloat>): float32 only."""
    _unary(ctx, ("float32",))
    return {"dtype": "float32"}


def _libm_float(name):
    """The C library's float function `name` (expf, logf) element-wise: TFLM's float results come
    from the host's libm (glibc on the machine that made the goldens), which is not always the
    correctly rounded value that numpy's float64 result rounded to float would give."""
    import ctypes
    import ctypes.util
    function = getattr(ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6"), name)
    function.restype, function.argtypes = ctypes.c_float, [ctypes.c_float]
    ufunc = np.frompyfunc(lambda v: function(v), 1, 1)

    def apply(x):
        with np.errstate(all="ignore"):     # libm raises the overflow/divide/invalid flags
            return np.asarray(ufunc(np.asarray(x, np.float32).astype(np.float64)), np.float32)
    return apply


def run_exp(plan, x):
    """reference_ops::Exp: std::exp in float (the C library's expf)."""
    return _libm_float("expf")(x)


def run_log(plan, x):
    """elementwise.cc LogEval: std::log in float, the C library's logf (0 gives -inf, a negative
    value NaN)."""
    return _libm_float("logf")(x)


def run_sqrt(plan, x):
    """elementwise.cc SqrtEval: std::sqrt in float (IEEE: correctly rounded)."""
    with np.errstate(invalid="ignore"):
        return np.sqrt(x.astype(np.float32))


def prepare_rsqrt(ctx):
    """PrepareAbsRsqrt (micro/kernels/elementwise.cc), shared with ABS: its type check never
    rejects anything, so int8 and int16 both take the quantized path.  SetRsqrtOutputMultiplier:
    QuantizeMultiplier(1. / (std::sqrt(float input_scale) * float output_scale)), the product in
    float.  int16 needs zero points 0; an int16 tensor without quantization parameters is refused
    (TFLM would read an unset multiplier)."""
    inp, out = _unary(ctx, ("int8", "int16", "float32"))
    plan = {"dtype": out.dtype}
    if inp.dtype == "float32":
        return plan
    if not inp.is_quantized or not out.is_quantized:
        ctx.fail("integer RSQRT needs quantization parameters on its input and output")
    s_in, z_in = ctx.per_tensor_quant(inp, "input")
    s_out, z_out = ctx.per_tensor_quant(out, "output")
    if inp.dtype == "int16":
        _require_zero_points_zero(ctx, (inp, out), "int16 RSQRT")
    product = np.float32(np.sqrt(np.float32(s_in)) * np.float32(s_out))
    plan["multiplier"], plan["shift"] = fp.quantize_multiplier(1.0 / np.float64(product))
    plan.update(input_zero_point=z_in, output_offset=z_out, range=INT_RANGES[out.dtype])
    return plan


def inv_sqrt_multiplier_exp(value):
    """GetInvSqrtQuantizedMultiplierExp(value, kReverseShift) (internal/common.h) for one int
    value >= 0: (multiplier, left shift), a Newton-Raphson 1/sqrt in gemmlowp fixed point."""
    if value <= 1:
        return fp.INT32_MAX, 0
    shift = 11
    while value >= 1 << 29:
        value //= 4
        shift += 1
    pairs = (int(fp.count_leading_zeros32(value)) - 1) // 2 - 1
    shift -= pairs
    value <<= 2 * pairs
    half_input = int(fp.rounding_divide_by_pot(value >> 1, 1))       # F3, input / 2
    half_three = (1 << 28) + (1 << 27)                                # F3, 1.5
    x = 1 << 28                                                       # F3::One()
    for _ in range(5):
        x3 = int(fp._rescale(fp.srdhm(fp.srdhm(x, x), x), 9, 3))
        x = int(fp._rescale(fp.wrap32(int(fp.srdhm(half_three, x)) - int(fp.srdhm(half_input, x3))), 6, 3))
    x = int(fp.srdhm(x, 1518500250))                                  # * sqrt(2) / 2 (F0)
    if shift < 0:
        x = int(fp.wrap32(x << -shift))
        shift = 0
    return x, -shift


def run_rsqrt(plan, x):
    """Float: 1.f / std::sqrt(x).  Quantized: RsqrtEvalQuantized (elementwise.cc); TFLM's Invoke
    fails on an input below the input zero point (here: the output's maximum, as for zero)."""
    if plan["dtype"] == "float32":
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.float32(1) / np.sqrt(x.astype(np.float32))).astype(np.float32)
    lo, hi = plan["range"]

    def one(v):
        value = int(v) - plan["input_zero_point"]
        if value <= 0:
            return hi
        multiplier, shift = inv_sqrt_multiplier_exp(value)
        data = int(fp.multiply_by_quantized_multiplier(1, multiplier, shift + 20))
        out = int(fp.multiply_by_quantized_multiplier(data, plan["multiplier"], plan["shift"] - 20))
        return min(max(out + plan["output_offset"], lo), hi)

    table = {int(v): one(v) for v in np.unique(x)}
    return np.vectorize(lambda v: table[int(v)], otypes=[np.int64])(x) if x.size else x.astype(np.int64)


def emit_math(e, op, plan, prefix, ins, outs):
    kind = {"EXP": "Exp", "LOG": "Log", "SQRT": "Sqrt", "RSQRT": "Rsqrt"}[op.opcode]
    return f"tinynet::{kind}<{ins[0]}, {outs[0]}>"


_ACTIVATION_ONLY = [(0, "fused_activation_function", "activation", 0)]
_ADD_SUB_FIELDS = [
    (0, "fused_activation_function", "activation", 0), (1, "pot_scale_int16", "bool", True),
]

SPECS = [
    OpSpec("ADD", (11, "AddOptions", _ADD_SUB_FIELDS), prepare_add, run_add, emit_add_sub,
           quantize="calibrated", fuses_activation=True, constant_operands=True, prune_join=prune_join_same_shape),
    OpSpec("SUB", (28, "SubOptions", _ADD_SUB_FIELDS), prepare_sub, run_sub, emit_add_sub,
           quantize="calibrated", fuses_activation=True, constant_operands=True),
    OpSpec("MUL", (21, "MulOptions", _ACTIVATION_ONLY), prepare_mul, run_mul, emit_mul_div,
           quantize="calibrated", fuses_activation=True, constant_operands=True),
    OpSpec("DIV", (29, "DivOptions", _ACTIVATION_ONLY), prepare_div, run_div, emit_mul_div,
           quantize="calibrated", fuses_activation=True, constant_operands=True,
           requant_table_bytes=_divisor_table_bytes),
    OpSpec("SQUARED_DIFFERENCE", (76, "SquaredDifferenceOptions", []), prepare_squared_difference,
           run_squared_difference, emit_binary, quantize="calibrated", constant_operands=True),
    OpSpec("MAXIMUM", (39, "MaximumMinimumOptions", []), prepare_maximum_minimum, run_maximum, emit_binary,
           quantize="shared", constant_operands=True),
    OpSpec("MINIMUM", (39, "MaximumMinimumOptions", []), prepare_maximum_minimum, run_minimum, emit_binary,
           quantize="shared", constant_operands=True),
    OpSpec("ABS", (78, "AbsOptions", []), prepare_abs, run_abs, emit_unary, same_shape=True,
           quantize="calibrated"),
    OpSpec("NEG", (42, "NegOptions", []), prepare_neg, run_neg, emit_unary, same_shape=True),
    OpSpec("EXP", (33, "ExpOptions", []), prepare_float_math, run_exp, emit_math, same_shape=True),
    OpSpec("LOG", (0, None, []), prepare_float_math, run_log, emit_math, same_shape=True),
    OpSpec("SQRT", (0, None, []), prepare_float_math, run_sqrt, emit_math, same_shape=True),
    OpSpec("RSQRT", (0, None, []), prepare_rsqrt, run_rsqrt, emit_math, same_shape=True,
           quantize="calibrated", requant_table_bytes=int8_table_bytes),
]
