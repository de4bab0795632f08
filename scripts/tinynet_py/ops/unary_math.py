"""Element-wise math of one input: EXP, LOG, SQRT (float32 only in TFLM) and RSQRT (float32, and
int8/int16 through TFLM's quantized path)."""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .arithmetic import _require_zero_points_zero, _unary
from .common import INT_RANGES


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


SPECS = [
    OpSpec("EXP", (33, "ExpOptions", []), prepare_float_math, run_exp, emit_math, same_shape=True),
    OpSpec("LOG", (0, None, []), prepare_float_math, run_log, emit_math, same_shape=True),
    OpSpec("SQRT", (0, None, []), prepare_float_math, run_sqrt, emit_math, same_shape=True),
    OpSpec("RSQRT", (0, None, []), prepare_rsqrt, run_rsqrt, emit_math, same_shape=True,
           quantize="calibrated"),
]
