"""AVERAGE_POOL_2D, MAX_POOL_2D and the reducers MEAN, SUM and REDUCE_MAX."""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .common import (INT_RANGES, activation_range_float, activation_range_quantized, pad_window,
                     window_geometry, window_taps)


def _prepare_pool(ctx):
    ctx.require_inputs(1)
    inp, out = ctx.input(0), ctx.output()
    ctx.require_dtypes(inp, ("int8", "int16", "float32"), "input")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    if len(inp.shape) != 4 or len(out.shape) != 4 or out.shape[3] != inp.shape[3]:
        ctx.fail(f"expects 4-D input and output with equal channels, got {inp.shape}, {out.shape}")
    o = ctx.op.options
    plan = {"input_dtype": inp.dtype, "kernel": (o["filter_height"], o["filter_width"]),
            "stride": (o["stride_h"], o["stride_w"]), "out_hw": out.shape[1:3]}
    if min(plan["kernel"]) <= 0:
        ctx.fail(f"filter size must be positive, got {plan['kernel']}")
    plan["pad"] = window_geometry(ctx, inp.shape[1:3], plan["kernel"], plan["stride"], (1, 1),
                                   plan["out_hw"], o["padding"])
    activation = o["fused_activation_function"]
    if inp.dtype == "float32":
        plan["act_min"], plan["act_max"] = activation_range_float(ctx, activation)
    else:
        ctx.per_tensor_quant(inp, "input")
        ctx.per_tensor_quant(out, "output")
        plan["act_min"], plan["act_max"] = activation_range_quantized(ctx, activation, out)
    return plan


def prepare_average_pool_2d(ctx):
    return _prepare_pool(ctx)


def run_average_pool_2d(plan, x):
    """reference_integer_ops::AveragePool: sum of the in-bounds taps, divided by their
    count rounding half away from zero (C integer division), then clamped.  Float:
    reference_ops::AveragePool, total / count."""
    kernel, stride, out_hw = plan["kernel"], plan["stride"], plan["out_hw"]
    is_float = plan["input_dtype"] == "float32"
    xp = pad_window(x.astype(np.float64 if is_float else np.int64), plan["pad"], kernel, stride,
                 (1, 1), out_hw, 0)
    inside = pad_window(np.ones(x.shape[:3] + (1,), np.int64), plan["pad"], kernel, stride, (1, 1),
                     out_hw, 0)
    total = np.zeros(xp.shape[:1] + tuple(out_hw) + xp.shape[3:], xp.dtype)
    count = np.zeros(xp.shape[:1] + tuple(out_hw) + (1,), np.int64)
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            total += window_taps(xp, ky, kx, stride, (1, 1), out_hw)
            count += window_taps(inside, ky, kx, stride, (1, 1), out_hw)
    count = np.maximum(count, 1)
    if is_float:
        return np.clip((total / count).astype(np.float32), plan["act_min"], plan["act_max"])
    half = count // 2
    rounded = np.where(total > 0, (total + half) // count, -((half - total) // count))
    return np.clip(rounded, plan["act_min"], plan["act_max"])


def prepare_max_pool_2d(ctx):
    return _prepare_pool(ctx)


def run_max_pool_2d(plan, x):
    """reference_integer_ops::MaxPool / reference_ops::MaxPool: max of the in-bounds taps."""
    kernel, stride, out_hw = plan["kernel"], plan["stride"], plan["out_hw"]
    lowest = -np.inf if plan["input_dtype"] == "float32" else np.iinfo(x.dtype).min
    xp = pad_window(x, plan["pad"], kernel, stride, (1, 1), out_hw, lowest)
    result = None
    for ky in range(kernel[0]):
        for kx in range(kernel[1]):
            tap = window_taps(xp, ky, kx, stride, (1, 1), out_hw)
            result = tap if result is None else np.maximum(result, tap)
    return np.clip(result, plan["act_min"], plan["act_max"])


def _prepare_reduce(ctx, dtypes):
    """A reducer's input, constant axis and output (ResolveAxis: negative axes counted from the
    end, duplicates once); the output holds one element per combination of the kept axes
    (keep_dims or not)."""
    ctx.require_inputs(2)
    inp, axis_t, out = ctx.input(0), ctx.input(1), ctx.output()
    ctx.require_dtypes(inp, dtypes, "input")
    ctx.require_constant(axis_t, "axis")
    if out.dtype != inp.dtype:
        ctx.fail(f"input dtype {inp.dtype} and output dtype {out.dtype} differ")
    rank = len(inp.shape)
    axes = sorted({int(a) + rank if int(a) < 0 else int(a) for a in axis_t.data.reshape(-1)})
    if any(not 0 <= a < rank for a in axes):
        ctx.fail(f"axis {axis_t.data.tolist()} is outside the input's rank {rank}")
    count = int(np.prod([inp.shape[a] for a in axes], dtype=np.int64))
    if out.num_elements * count != int(np.prod(inp.shape, dtype=np.int64)):
        ctx.fail(f"output shape {tuple(out.shape)} does not match input {tuple(inp.shape)} reduced over {axes}")
    return inp, out, {"input_dtype": inp.dtype, "axes": tuple(axes), "count": count}


def prepare_mean(ctx):
    inp, out, plan = _prepare_reduce(ctx, ("int8", "int16", "float32"))
    count = plan["count"]
    if inp.dtype != "float32":
        in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
        out_scale, out_zp = ctx.per_tensor_quant(out, "output")
        # PrepareMeanOrSum (micro/kernels/reduce_common.cc): QuantizeMultiplier of
        # double(input_scale) / double(output_scale); QuantizedMeanOrSumExtraArgs
        # (internal/reference/reduce.h) then folds 1 / count into it.
        multiplier, shift = fp.quantize_multiplier(np.float64(in_scale) / np.float64(out_scale))
        if count > 0:
            pot = count.bit_length() - 1                   # 63 - CountLeadingZeros(count)
            pot = min(pot, 32, 31 + shift)
            multiplier = (multiplier << pot) // count
            shift -= pot
        plan.update(multiplier=multiplier, shift=shift, input_zero_point=in_zp,
                    output_zero_point=out_zp, range=INT_RANGES[out.dtype])
    return plan


def run_mean(plan, x, axis):
    """Float: reference_ops::Mean.  Quantized: QuantizedMeanOrSumExtraArgs."""
    axes = plan["axes"]
    if plan["input_dtype"] == "float32":
        return np.mean(x.astype(np.float64), axis=axes).astype(np.float32)
    total = np.sum(x.astype(np.int64), axis=axes)
    shifted = fp.wrap32(total - plan["input_zero_point"] * plan["count"])
    result = fp.multiply_by_quantized_multiplier(shifted, plan["multiplier"], plan["shift"])
    return np.clip(result + plan["output_zero_point"], *plan["range"])



def prepare_sum(ctx):
    """PrepareMeanOrSum (reduce_common.cc): QuantizeMultiplier(double(input_scale) /
    double(output_scale)); for a sum QuantizedMeanOrSum does not fold in 1 / count."""
    inp, out, plan = _prepare_reduce(ctx, ("int8", "int16", "float32"))
    if inp.dtype != "float32":
        in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
        out_scale, out_zp = ctx.per_tensor_quant(out, "output")
        multiplier, shift = fp.quantize_multiplier(np.float64(in_scale) / np.float64(out_scale))
        plan.update(multiplier=multiplier, shift=shift, input_zero_point=in_zp,
                    output_zero_point=out_zp, range=INT_RANGES[out.dtype])
    return plan


def _in_order(plan, x):
    """x as (outputs, count): each row the reduced elements of one output, in input order."""
    axes = plan["axes"]
    kept = [a for a in range(x.ndim) if a not in axes]
    return np.transpose(x, kept + list(axes)).reshape(-1, plan["count"])


def run_sum(plan, x, axis):
    """Float: ReduceGeneric with init 0 and in + current, element by element in input order
    (float addition is not associative: not numpy's pairwise sum).  Quantized: QuantizedMeanOrSum
    with compute_sum: the int32 sum minus input_zero_point * count, requantized, plus the output
    zero point, clamped."""
    rows = _in_order(plan, x)
    out_shape = tuple(d for a, d in enumerate(x.shape) if a not in plan["axes"])
    if plan["input_dtype"] == "float32":
        total = np.zeros(rows.shape[0], np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(rows.shape[1]):
                total = (rows[:, k] + total).astype(np.float32)
        return total.reshape(out_shape)
    total = fp.wrap32(np.sum(rows.astype(np.int64), axis=1))
    shifted = fp.wrap32(total - plan["input_zero_point"] * plan["count"])
    result = fp.multiply_by_quantized_multiplier(shifted, plan["multiplier"], plan["shift"])
    return np.clip(result + plan["output_zero_point"], *plan["range"]).reshape(out_shape)


def prepare_reduce_max(ctx):
    """PrepareMaxHelper (reduce_common.cc): float32 and int8 (int16 refused, as TFLM); int8 needs
    the output quantization equal to the input's (the maximum is copied, never rescaled)."""
    inp, out, plan = _prepare_reduce(ctx, ("int8", "float32"))
    if inp.dtype == "int8":
        if ctx.per_tensor_quant(inp, "input") != ctx.per_tensor_quant(out, "output"):
            ctx.fail("int8 REDUCE_MAX needs the output scale and zero point equal to the input's, as TFLM")
    return plan


def run_reduce_max(plan, x, axis):
    """ReduceGeneric with init numeric_limits<T>::lowest() and (in > current) ? in : current:
    a NaN never wins, so all-NaN gives -FLT_MAX."""
    rows = _in_order(plan, x)
    out_shape = tuple(d for a, d in enumerate(x.shape) if a not in plan["axes"])
    lowest = np.finfo(np.float32).min if plan["input_dtype"] == "float32" else np.iinfo(x.dtype).min
    best = np.full(rows.shape[0], lowest, x.dtype)
    for k in range(rows.shape[1]):
        best = np.where(rows[:, k] > best, rows[:, k], best)
    return best.reshape(out_shape)


def emit_pool(e, op, plan, prefix, ins, outs):
    kind = "AveragePool2D" if op.opcode == "AVERAGE_POOL_2D" else "MaxPool2D"
    (filter_h, filter_w), (stride_h, stride_w) = plan["kernel"], plan["stride"]
    return (f"tinynet::{kind}<{ins[0]}, {outs[0]},\n    tinynet::Pool2DOptions{{.filter_h = {filter_h}, "
            f".filter_w = {filter_w}, .stride_h = {stride_h}, "
            f".stride_w = {stride_w}, .padding = {e.padding(op)}, "
            f".activation = {e.activation(op)}}}>")


def params_pool(op):
    o = op.options
    return f"pool {o['filter_height']}x{o['filter_width']}, stride {o['stride_h']}x{o['stride_w']}, {o['padding']}"


def emit_reduce(e, op, plan, prefix, ins, outs):
    kind = {"MEAN": "Mean", "SUM": "Sum", "REDUCE_MAX": "ReduceMax"}[op.opcode]
    axes = ", ".join(str(a) for a in plan["axes"])
    return f"tinynet::{kind}<{ins[0]}, {outs[0]}, tinynet::axes({axes})>"


def params_mean(op):
    return "keep_dims" if op.options["keep_dims"] else ""


_POOL_2D_FIELDS = [
    (0, "padding", "padding", 0), (1, "stride_w", "int32", 0), (2, "stride_h", "int32", 0),
    (3, "filter_width", "int32", 0), (4, "filter_height", "int32", 0),
    (5, "fused_activation_function", "activation", 0),
]


def prune_through_mean(model, op, t, flattened):
    """Neuron pruning: MEAN over H and W of a 4-D map keeps channels apart."""
    axes = model.tensors[op.inputs[1]].data.reshape(-1).tolist() if op.inputs[1] >= 0 else []
    axes = [a % len(t.shape) for a in axes]
    return len(t.shape) == 4 and sorted(axes) == [1, 2] and not flattened, flattened


_POOL = dict(params_text=params_pool, quantize="shared", prune="channelwise", fuses_activation=True)

SPECS = [
    OpSpec("AVERAGE_POOL_2D", (5, "Pool2DOptions", _POOL_2D_FIELDS), prepare_average_pool_2d,
           run_average_pool_2d, emit_pool, **_POOL),
    OpSpec("MAX_POOL_2D", (5, "Pool2DOptions", _POOL_2D_FIELDS), prepare_max_pool_2d,
           run_max_pool_2d, emit_pool, **_POOL),
    OpSpec("MEAN", (27, "ReducerOptions", [(0, "keep_dims", "bool", False)]), prepare_mean,
           run_mean, emit_reduce, data_inputs=1, params_text=params_mean, quantize="calibrated",
           prune_through=prune_through_mean),
    OpSpec("SUM", (27, "ReducerOptions", [(0, "keep_dims", "bool", False)]), prepare_sum,
           run_sum, emit_reduce, data_inputs=1, params_text=params_mean, quantize="calibrated"),
    OpSpec("REDUCE_MAX", (27, "ReducerOptions", [(0, "keep_dims", "bool", False)]), prepare_reduce_max,
           run_reduce_max, emit_reduce, data_inputs=1, params_text=params_mean, quantize="shared"),
]
