"""ADD and SUB (element-wise, with broadcasting)."""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .common import activation_range_float, activation_range_quantized


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
    for name, real in (("input1", real1), ("input2", real2), ("output", real_out)):
        if not 0.0 < real < 1.0:
            ctx.fail(f"the {name} rescaling factor {real} is not in (0, 1): the scales are "
                     f"outside what TFLM supports")
        plan[f"{name}_multiplier"], plan[f"{name}_shift"] = fp.quantize_multiplier(real)
    plan.update(left_shift=left_shift, input1_offset=-z1, input2_offset=-z2, output_offset=zo)
    plan["act_min"], plan["act_max"] = activation_range_quantized(ctx, activation, out)
    return plan


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


_ADD_SUB_FIELDS = [
    (0, "fused_activation_function", "activation", 0), (1, "pot_scale_int16", "bool", True),
]

SPECS = [
    OpSpec("ADD", (11, "AddOptions", _ADD_SUB_FIELDS), prepare_add, run_add, emit_add_sub,
           quantize="calibrated", fuses_activation=True),
    OpSpec("SUB", (28, "SubOptions", _ADD_SUB_FIELDS), prepare_sub, run_sub, emit_add_sub,
           quantize="calibrated", fuses_activation=True),
]
