"""Normalizations over the last axis with TFLM's fixed int8 output quantization: L2_NORMALIZATION,
LOG_SOFTMAX."""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .arithmetic import inv_sqrt_multiplier_exp

# reference_integer_ops::L2Normalization and LogSoftmax write in these whatever the output tensor
# says (l2norm.cc never reads it).
L2_OUTPUT = (1.0 / 128, 0)
L2_EPSILON = np.float32(1e-6)


def _prepare_last_axis(ctx, opcode):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    if tuple(inp.shape) != tuple(out.shape) or not inp.shape:
        ctx.fail(f"input shape {inp.shape} and output shape {out.shape} differ (this op keeps the shape)")
    return inp, out


def prepare_l2_normalization(ctx):
    """l2norm.cc Prepare(): rank <= 4, int8 or float32 in and out, no fused activation.  The
    output quantization is not read (int8 outputs are x / ||x|| in 1/128)."""
    inp, out = _prepare_last_axis(ctx, "L2_NORMALIZATION")
    if len(inp.shape) > 4:
        ctx.fail(f"input rank {len(inp.shape)} exceeds 4 (TFLM's limit)")
    if ctx.op.options.get("fused_activation_function", "NONE") != "NONE":
        ctx.fail("a fused activation on L2_NORMALIZATION is not supported (TFLM refuses it)")
    plan = {"dtype": inp.dtype}
    if inp.dtype == "int8":
        _, plan["input_zero_point"] = ctx.per_tensor_quant(inp, "input")
        if inp.shape[-1] > 33025:
            ctx.fail(f"rows of {inp.shape[-1]} values overflow TFLM's int32 sum of squares (at most 33025)")
    return plan


def run_l2_normalization(plan, x):
    """reference_ops::L2Normalization (float32: the squares summed in order, sqrt, at least
    epsilon 1e-6f, a division) or reference_integer_ops::L2Normalization (int8:
    GetInvSqrtQuantizedMultiplierExp of the int32 sum of squares, then
    MultiplyByQuantizedMultiplier(x - zp, m, shift + 7) clamped)."""
    if plan["dtype"] == "float32":
        f32 = np.float32
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            squared = np.zeros(x.shape[:-1], f32)
            for c in range(x.shape[-1]):
                squared = (squared + x[..., c] * x[..., c]).astype(f32)
            norm = np.sqrt(squared).astype(f32)
            norm = np.where(norm < L2_EPSILON, L2_EPSILON, norm).astype(f32)
            return (x / norm[..., None]).astype(f32)
    v = x.astype(np.int64) - plan["input_zero_point"]
    rows = v.reshape(-1, x.shape[-1])
    out = np.empty_like(rows)
    for r, row in enumerate(rows):
        multiplier, shift = inv_sqrt_multiplier_exp(int(np.sum(row * row)))
        out[r] = np.clip(fp.multiply_by_quantized_multiplier(row, multiplier, shift + 7), -128, 127)
    return out.reshape(x.shape).astype(np.int8)


def emit_l2_normalization(e, op, plan, prefix, ins, outs):
    return f"tinynet::L2Normalization<{ins[0]}, {outs[0]}>"


SPECS = [
    OpSpec("L2_NORMALIZATION", (12, "L2NormOptions", [(0, "fused_activation_function", "activation", 0)]),
           prepare_l2_normalization, run_l2_normalization, emit_l2_normalization, same_shape=True,
           quantize="fixed", fixed_output=L2_OUTPUT),
]
