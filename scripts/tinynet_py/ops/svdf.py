"""SVDF: a rank-R filter over the last `memory` frames that keeps an activation state across
invokes (a variable tensor: docs/design.md, "State"). TFLM: micro/kernels/svdf_common.cc
(PrepareSvdf, EvalIntegerSvdfReference, EvalFloatSvdfReference); C++: layers/recurrent/svdf.hpp.
"""

import numpy as np

from .. import fixedpoint as fp
from . import OpSpec
from .common import INT_RANGES

_ACTIVATIONS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")


def prepare_svdf(ctx):
    """PrepareSvdf: the shapes, types and the two multipliers TFLM computes."""
    op = ctx.op
    if len(op.inputs) != 5 or len(op.outputs) != 1 or any(op.inputs[k] < 0 for k in (0, 1, 2, 4)):
        ctx.fail(f"expects 5 inputs (input, weights_feature, weights_time, bias, activation state; "
                 f"the bias may be absent) and 1 output, has {op.inputs} and {op.outputs}")
    inp, wf, wt, state, out = ctx.input(0), ctx.input(1), ctx.input(2), ctx.input(4), ctx.output()
    bias = ctx.input(3)
    rank = int(op.options.get("rank", 0))
    if rank <= 0:
        ctx.fail(f"rank {rank}: it must be at least 1")
    for t, role in ((inp, "input"), (wf, "weights_feature"), (wt, "weights_time"), (state, "activation state"),
                    (out, "output")):
        if len(t.shape) != 2:
            ctx.fail(f"{role} tensor '{t.name}' has shape {list(t.shape)}; it must be 2-D")
    batch, input_size = inp.shape
    filters = wf.shape[0]
    if filters % rank:
        ctx.fail(f"{filters} filters are not a multiple of the rank {rank}")
    units, memory = filters // rank, wt.shape[1]
    if wf.shape[1] != input_size or wt.shape[0] != filters:
        ctx.fail(f"weights_feature {list(wf.shape)} and weights_time {list(wt.shape)} do not fit "
                 f"the input {list(inp.shape)}")
    if tuple(out.shape) != (batch, units):
        ctx.fail(f"output shape {list(out.shape)}, expected {[batch, units]}")
    if tuple(state.shape) != (batch, memory * filters):
        ctx.fail(f"activation state shape {list(state.shape)}, expected {[batch, memory * filters]}")
    if not state.is_variable or state.data is not None:
        ctx.fail(f"activation state tensor '{state.name}' must be a variable tensor (TFLM requires it)")
    ctx.require_constant(wf, "weights_feature")
    ctx.require_constant(wt, "weights_time")
    if bias is not None:
        ctx.require_constant(bias, "bias")
        if bias.num_elements != units:
            ctx.fail(f"bias has {bias.num_elements} values, expected {units}")
    activation = op.options.get("fused_activation_function", "NONE")
    plan = {"rank": rank, "batch": batch, "input_size": input_size, "filters": filters, "units": units,
            "memory": memory, "weights_feature": wf.data, "weights_time": wt.data,
            "bias": None if bias is None else bias.data.reshape(-1), "dtype": inp.dtype,
            "activation": activation}
    if inp.dtype == "float32":
        for t, role in ((wf, "weights_feature"), (wt, "weights_time"), (state, "activation state"), (out, "output")) + \
                ((bias, "bias"),) * (bias is not None):
            ctx.require_dtypes(t, ("float32",), role)
        if activation not in _ACTIVATIONS:
            ctx.fail(f"fused activation {activation} is not supported (supported: {', '.join(_ACTIVATIONS)})")
        return plan
    ctx.require_dtypes(inp, ("int8", "float32"), "input")
    ctx.require_dtypes(wf, ("int8",), "weights_feature")
    ctx.require_dtypes(wt, ("int16", "int8"), "weights_time")
    ctx.require_dtypes(state, ("int16", "int8"), "activation state")
    ctx.require_dtypes(out, ("int8",), "output")
    if state.dtype != wt.dtype:
        ctx.fail(f"activation state dtype {state.dtype} differs from weights_time dtype {wt.dtype} "
                 f"(TFLM's kernel reads both as one type)")
    if bias is None:
        # TFLM's PrepareSvdf reads the bias tensor's scale unconditionally.
        ctx.fail("the int8 SVDF needs its bias tensor (TFLM reads the bias scale)")
    ctx.require_dtypes(bias, ("int32",), "bias")
    in_scale, in_zp = ctx.per_tensor_quant(inp, "input")
    wf_scale, _ = ctx.per_tensor_quant(wf, "weights_feature")
    wt_scale, _ = ctx.per_tensor_quant(wt, "weights_time")
    state_scale, state_zp = ctx.per_tensor_quant(state, "activation state")
    out_scale, out_zp = ctx.per_tensor_quant(out, "output")
    bias_scale = float(bias.scale_scalar)
    # TFLM: fabs(bias scale - state scale * weights_time scale (in float)) < 1e-5, else Prepare fails.
    if not abs(bias_scale - float(np.float32(state_scale * wt_scale))) < 1e-5:
        ctx.fail(f"bias scale {bias_scale:g} is not activation state scale x weights_time scale "
                 f"({float(np.float32(state_scale * wt_scale)):g}); TFLM refuses it")
    # The products in float, then widened to double (PrepareSvdf).
    plan["feature_multiplier"] = fp.quantize_multiplier(float(np.float32(np.float32(in_scale * wf_scale) / state_scale)))
    plan["output_multiplier"] = fp.quantize_multiplier(float(np.float32(np.float32(state_scale * wt_scale) / out_scale)))
    plan.update(input_zero_point=in_zp, state_zero_point=state_zp, output_zero_point=out_zp,
                state_range=INT_RANGES[state.dtype])
    return plan


def run_svdf(plan, x, weights_feature, weights_time, bias, state):
    """EvalIntegerSvdfReference / EvalFloatSvdfReference. `state` is the variable tensor: updated in
    place (the reference interpreter keeps it for the next invoke)."""
    b, i, f, m, r, u = (plan[k] for k in ("batch", "input_size", "filters", "memory", "rank", "units"))
    flat = state.reshape(-1)
    flat[:-1] = flat[1:].copy()                          # the whole buffer, one element to the left
    frames = state.reshape(b, f, m)
    x = x.reshape(b, i)
    wf = plan["weights_feature"].reshape(f, i)
    wt = plan["weights_time"].reshape(f, m)
    if plan["dtype"] == "float32":
        dot = np.zeros((b, f), np.float32)
        for c in range(i):                               # float sums in TFLM's order
            dot = (dot + wf[:, c].astype(np.float32) * x[:, c:c + 1].astype(np.float32)).astype(np.float32)
        frames[:, :, m - 1] = dot
        sums = np.zeros((b, f), np.float32)
        for k in range(m):
            sums = (sums + wt[:, k].astype(np.float32) * frames[:, :, k]).astype(np.float32)
        total = np.zeros((b, u), np.float32) if plan["bias"] is None else \
            np.tile(plan["bias"].astype(np.float32), (b, 1))
        grouped = sums.reshape(b, u, r)
        for k in range(r):
            total = (total + grouped[:, :, k]).astype(np.float32)
        return _activate_float(total, plan["activation"])
    dot = (x.astype(np.int64) - plan["input_zero_point"]) @ wf.astype(np.int64).T
    dot = fp.multiply_by_quantized_multiplier(fp.wrap32(dot), *plan["feature_multiplier"]) + plan["state_zero_point"]
    frames[:, :, m - 1] = np.clip(dot, *plan["state_range"])
    # int32 sums as TFLM's int32 additions give them (modulo 2^32).
    sums = fp.wrap32(np.sum(wt.astype(np.int64) * (frames.astype(np.int64) - plan["state_zero_point"]), axis=2))
    total = fp.wrap32(plan["bias"].astype(np.int64) + np.sum(sums.reshape(b, u, r), axis=2))
    out = fp.multiply_by_quantized_multiplier(total, *plan["output_multiplier"]) + plan["output_zero_point"]
    return np.clip(out, -128, 127).astype(np.int8)


def _activate_float(v, activation):
    """TFLM's ActivationValFloat with std::max / std::min (a NaN meets 0 as std::max(0.f, NaN) = 0)."""
    def max_of(p, q):
        return np.where(p < q, q, p).astype(np.float32)

    def min_of(p, q):
        return np.where(q < p, q, p).astype(np.float32)
    if activation == "RELU":
        return max_of(np.float32(0), v)
    if activation == "RELU6":
        return max_of(np.float32(0), min_of(v, np.float32(6)))
    if activation == "RELU_N1_TO_1":
        return max_of(np.float32(-1), min_of(v, np.float32(1)))
    return v


def emit_svdf(e, op, plan, prefix, ins, outs):
    wf, wt = e.model.tensors[op.inputs[1]], e.model.tensors[op.inputs[2]]
    bias = op.inputs[3]
    ctype = {"int8": "std::int8_t", "int16": "std::int16_t", "float32": "float", "int32": "std::int32_t"}
    e.add_array(ctype[wf.dtype], f"{prefix}_weights_feature", wf.data)
    e.add_array(ctype[wt.dtype], f"{prefix}_weights_time", wt.data)
    bias_name = "tinynet::no_bias"
    if bias >= 0:
        bias_name = f"{prefix}_bias"
        e.add_array(ctype[e.model.tensors[bias].dtype], bias_name, e.model.tensors[bias].data)
    scales = "tinynet::no_scales"
    if plan["dtype"] != "float32":
        scales = f"{prefix}_scales"
        e.constant_line(f"// {prefix}: weights_feature and weights_time scales\n"
                        f"inline constexpr float {scales}[2] = {{{e.cpp_float(wf.scale_scalar)}, "
                        f"{e.cpp_float(wt.scale_scalar)}}};\n")
    # The integer kernel applies no fused activation (TFLM's does not either).
    activation = e.activation(op) if plan["dtype"] == "float32" else "tinynet::Activation::none"
    return (f"tinynet::Svdf<{ins[0]}, {ins[1]}, {outs[0]}, {prefix}_weights_feature, {prefix}_weights_time, "
            f"{bias_name}, {scales},\n    tinynet::SvdfOptions{{.rank = {plan['rank']}, .activation = {activation}}}>")


def macs_svdf(model, op):
    inp, wf, wt = (model.tensors[i] for i in op.inputs[:3])
    return inp.shape[0] * wf.shape[0] * (wf.shape[1] + wt.shape[1])


def params_svdf(op):
    return f"rank {op.options.get('rank', 0)}"


_SVDF_FIELDS = [
    (0, "rank", "int32", 0), (1, "fused_activation_function", "activation", 0),
    (2, "asymmetric_quantize_inputs", "bool", False),
]

SPECS = [
    OpSpec("SVDF", (6, "SVDFOptions", _SVDF_FIELDS), prepare_svdf, run_svdf, emit_svdf,
           data_inputs=(0, 4), macs=macs_svdf, params_text=params_svdf, weights=True),
]
