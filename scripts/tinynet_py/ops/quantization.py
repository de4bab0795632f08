"""QUANTIZE (float to integer, integer to integer) and DEQUANTIZE."""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .common import INT_RANGES


# The (input, output) types EvalQuantizeReference (micro/kernels/quantize_common.cc) runs; every
# other pair fails at Invoke ("Input %s, output %s not supported.").
QUANTIZE_PAIRS = {
    "float32": ("int8", "int16"),
    "int8": ("int8", "uint8", "int16", "int32"),
    "uint8": ("int8",),
    "int16": ("int8", "int16", "int32"),
    "int32": ("int8", "int16"),
}


def prepare_quantize(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, tuple(QUANTIZE_PAIRS), "input")
    if out.dtype not in QUANTIZE_PAIRS[inp.dtype]:
        ctx.fail(f"TFLM quantizes {inp.dtype} to {' or '.join(QUANTIZE_PAIRS[inp.dtype])}, "
                 f"not to {out.dtype}")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    plan = {"input_dtype": inp.dtype, "output_zero_point": out_zp,
            "range": INT_RANGES[out.dtype], "output_scale": out_scale}
    if inp.dtype == "float32":
        return plan
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    # PrepareQuantizeReference (micro/kernels/quantize_common.cc).
    plan["multiplier"], plan["shift"] = fp.quantize_multiplier(
        np.float64(in_scale) / np.float64(out_scale))
    plan["input_zero_point"] = in_zp
    return plan


def run_quantize(plan, x):
    """Float input: reference_ops::AffineQuantize, round(val / scale) + zero point, divided in float32.
    Integer input: reference_ops::Requantize (internal/reference/requantize.h)."""
    if plan["input_dtype"] == "float32":
        q = fp.tflite_round((x.astype(np.float32) / np.float32(plan["output_scale"])).astype(np.float64))
        q = np.clip(q, -2.0 ** 31, 2.0 ** 31 - 1).astype(np.int64) + plan["output_zero_point"]
        return np.clip(q, *plan["range"])
    value = fp.wrap32(x.astype(np.int64) - plan["input_zero_point"])
    result = fp.wrap32(fp.multiply_by_quantized_multiplier(value, plan["multiplier"], plan["shift"])
                       + plan["output_zero_point"])
    return np.clip(result, *plan["range"])


def prepare_dequantize(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    # DequantizePrepare (micro/kernels/dequantize_common.cc): int8 or int16 in, float32 out.
    ctx.require_dtypes(inp, ("int8", "int16"), "input")
    ctx.require_dtypes(out, ("float32",), "output")
    scale, zero_point = ctx.per_tensor_quant(inp, "input")
    return {"scale": np.float32(scale), "zero_point": zero_point}


def run_dequantize(plan, x):
    """reference_ops::Dequantize: float(scale) * (val - zero_point) in float."""
    return plan["scale"] * (x.astype(np.int64) - plan["zero_point"]).astype(np.float32)



def emit_quantize(e, op, plan, prefix, ins, outs):
    return f"tinynet::Quantize<{ins[0]}, {outs[0]}>"


def emit_dequantize(e, op, plan, prefix, ins, outs):
    return f"tinynet::Dequantize<{ins[0]}, {outs[0]}>"


SPECS = [
    OpSpec("QUANTIZE", (89, "QuantizeOptions", []), prepare_quantize, run_quantize, emit_quantize,
           same_shape=True),
    OpSpec("DEQUANTIZE", (38, "DequantizeOptions", []), prepare_dequantize, run_dequantize,
           emit_dequantize, same_shape=True),
]
