"""Hybrid models (float activations, int8 weights): MLPerf Tiny's kws_ref_model_float32.tflite,
whose CONV_2D weights TFLite's dynamic-range quantization stored as int8 (per-tensor scales; its
small depthwise and fully-connected weights stayed float).

tinynet runs it with TFLite's hybrid arithmetic (include/tinynet/core/hybrid.hpp): each hybrid
layer quantizes its float input to int8 per batch, multiplies in int32 and scales back to float.
The C++ is bit-exact with the numpy reference on it (test_cpp_vs_reference.py, case
kws_ref_model_float32_hybrid, and the synthetic hybrid cases there). Here the reference is held
against a float computation of the same model with its int8 weights dequantized (w * scale),
written below in float64 numpy, on the shared golden inputs of the int8 kws model dequantized
with that model's input scale and zero point (meta.json): the only difference between the two
is the quantization of each hybrid layer's input, and the test bounds the output difference by
what that quantization can explain (`propagate` derives the bound).
"""

import numpy as np
import pytest

from conftest import SHARED, dequantized_golden_inputs
from tinynet_py.ops import REGISTRY
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import load_model

MODEL = SHARED / "models" / "mlperf-tiny" / "kws_ref_model_float32.tflite"
GOLDEN = SHARED / "golden" / "kws_ref_model"


def golden_inputs():
    """Every in_K.bin of the int8 kws model's goldens, dequantized with its input scale and zero point."""
    return dequantized_golden_inputs("kws_ref_model")


# ---- the float model, in float64, with dequantized weights ---------------------------------

def weights_of(model, index):
    """A weight tensor as real numbers (int8 weights times their per-tensor or per-channel scale)."""
    t = model.tensors[index]
    if t.dtype == "float32":
        return t.data.astype(np.float64)
    scale = t.scale.astype(np.float64)
    axis = 3 if len(t.shape) == 4 and t.shape[0] == 1 and scale.size == t.shape[3] and scale.size > 1 else 0
    shape = [1] * len(t.shape)
    shape[axis] = -1
    return t.data.astype(np.float64) * scale.reshape(shape)


def same_pad(size, kernel, stride):
    out = -(-size // stride)
    return out, max((out - 1) * stride + kernel - size, 0) // 2


def windows(x, kh, kw, stride, padding):
    """Zero-padded input and each tap's view [N, OH, OW, C] (what every output position reads)."""
    n, h, w, c = x.shape
    if padding == "SAME":
        (oh, ph), (ow, pw) = same_pad(h, kh, stride[0]), same_pad(w, kw, stride[1])
    else:
        oh, ph, ow, pw = (h - kh) // stride[0] + 1, 0, (w - kw) // stride[1] + 1, 0
    xp = np.zeros((n, max(h + 2 * ph, (oh - 1) * stride[0] + kh), max(w + 2 * pw, (ow - 1) * stride[1] + kw), c))
    xp[:, ph:ph + h, pw:pw + w] = x
    return {(ky, kx): xp[:, ky:ky + (oh - 1) * stride[0] + 1:stride[0], kx:kx + (ow - 1) * stride[1] + 1:stride[1]]
            for ky in range(kh) for kx in range(kw)}


def linear(model, op, x, w):
    """The sums of a conv, depthwise or fully-connected op with weights w, without bias."""
    o = op.options
    if op.opcode == "FULLY_CONNECTED":
        return x.reshape(-1, w.shape[1]) @ w.T
    stride = (o["stride_h"], o["stride_w"])
    if op.opcode == "CONV_2D":                    # OHWI
        taps = windows(x, w.shape[1], w.shape[2], stride, o["padding"])
        return sum(v @ w[:, ky, kx, :].T for (ky, kx), v in taps.items())
    taps = windows(np.repeat(x, o["depth_multiplier"], axis=3), w.shape[1], w.shape[2], stride, o["padding"])
    return sum(v * w[0, ky, kx, :] for (ky, kx), v in taps.items())   # 1HWO


ACTIVATIONS = {"NONE": (-np.inf, np.inf), "RELU": (0.0, np.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def is_hybrid(model, op):
    return op.opcode in WEIGHTED and model.tensors[op.inputs[1]].dtype == "int8"


def asymmetric_inputs(model, op):
    """TFLite's choice (conv.cc, depthwise_conv.cc, fully_connected.cc Prepare/Eval)."""
    scales = model.tensors[op.inputs[1]].scale
    return {"CONV_2D": bool(np.any(scales != scales[0])), "DEPTHWISE_CONV_2D": True,
            "FULLY_CONNECTED": bool(op.options.get("asymmetric_quantize_inputs", False))}[op.opcode]


def quantized_input(x, asymmetric):
    """A hybrid op's input as the int8 codes represent it, s * (q - offset), and the step s, per
    TFLite's tensor_utils::SymmetricQuantizeFloats / AsymmetricQuantizeFloats (float32 where
    they compute in float, round half away from zero)."""
    x = np.asarray(x, np.float32)
    half_away = lambda v: np.sign(v) * np.floor(np.abs(v.astype(np.float64)) + 0.5)
    if not asymmetric:
        top = np.float32(np.abs(x).max())
        if top == 0:
            return np.zeros(x.shape), 1.0
        scale = top / np.float32(127)
        q = np.clip(half_away(x * (np.float32(127) / top)), -127, 127)
        return float(scale) * q, float(scale)
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    if lo == hi:
        return np.zeros(x.shape), 1.0
    step = (hi - lo) / 255
    zero_point = -128 - lo / step if 128 + abs(lo / step) < 127 + abs(hi / step) else 127 - hi / step
    offset = float(np.clip(half_away(np.array(zero_point)), -128, 127))
    scale = np.float32(step)
    q = np.clip(half_away(np.float32(offset) + x * (np.float32(1) / scale)), -128, 127)
    return float(scale) * (q - offset), float(scale)


def float_op(model, op, x, quantize_hybrid_inputs=False):
    """One op of the model in float64 (TensorFlow's definitions, not tinynet's code); with
    quantize_hybrid_inputs, a hybrid op's input first becomes what its int8 codes represent."""
    o = op.options
    if op.opcode in WEIGHTED:
        if quantize_hybrid_inputs and is_hybrid(model, op):
            x = np.stack([quantized_input(x[b], asymmetric_inputs(model, op))[0] for b in range(x.shape[0])])
        w = weights_of(model, op.inputs[1])
        bias = model.tensors[op.inputs[2]].data.astype(np.float64) if len(op.inputs) > 2 and op.inputs[2] >= 0 else 0.0
        lo, hi = ACTIVATIONS[o.get("fused_activation_function", "NONE")]
        return np.clip(linear(model, op, x, w) + bias, lo, hi)
    if op.opcode == "AVERAGE_POOL_2D":
        assert (o["filter_height"], o["filter_width"]) == x.shape[1:3] and o["padding"] == "VALID"
        return x.mean(axis=(1, 2), keepdims=True)
    if op.opcode == "RESHAPE":
        return x.reshape(model.tensors[op.outputs[0]].shape)
    if op.opcode == "SOFTMAX":
        z = np.exp(o.get("beta", 1.0) * (x - x.max(axis=-1, keepdims=True)))
        return z / z.sum(axis=-1, keepdims=True)
    raise AssertionError(f"the float model in this test has no {op.opcode}")


def float_run(model, x, quantize_hybrid_inputs=False):
    """The float model on x; every op's output (tensor index -> value)."""
    values = {model.inputs[0]: x.astype(np.float64)}
    for op in model.ops:
        values[op.outputs[0]] = float_op(model, op, values[op.inputs[0]], quantize_hybrid_inputs)
    return values


@pytest.fixture(scope="module")
def model():
    if not MODEL.exists() or not GOLDEN.is_dir():
        pytest.skip(f"{MODEL} or {GOLDEN} not found: tinynet's shared data is expected at ../shared")
    return load_model(MODEL)


def test_the_model_is_hybrid(model):
    """What this file tests: int8 weights under float activations, nothing quantized around them."""
    assert [op.opcode for op in model.ops if is_hybrid(model, op)] == ["CONV_2D"] * 5
    assert all(t.dtype in ("float32", "int8", "int32") for t in model.tensors)
    assert model.tensors[model.inputs[0]].dtype == "float32" == model.tensors[model.outputs[0]].dtype


def test_each_hybrid_layer_within_its_input_quantization_bound(model):
    """Every hybrid layer, run by the reference on the float model's own input to it (float32),
    against the float layer with dequantized weights on the same input.

    The bound: the layer computes sum_i w_i * xq_i + bias with xq_i = s * (q_i - offset) the value
    its int8 code represents (the integer sum is exact, the scales are multiplied in float). Round
    to nearest puts xq_i within s/2 of x_i (symmetric: s = max|x| / 127, no value beyond the ends;
    asymmetric: the rounded zero point can move an end value half a step further, s in all), so
    |hybrid - float| <= sum_i |w_i| * s/2 (s) for every output, padded taps adding nothing on
    either side; a fused ReLU or RELU6 clamp is 1-Lipschitz. The float32 rescale and bias add
    (four roundings) add at most 1e-6 of sum_i |w_i| (|x_i| + s) + |bias|."""
    interpreter = Interpreter(model)
    checked = 0
    for name, x in golden_inputs()[:8]:
        values = float_run(model, x)
        for op in model.ops:
            if not is_hybrid(model, op):
                continue
            x32 = values[op.inputs[0]].astype(np.float32)
            spec, plan = REGISTRY[op.opcode], interpreter.plans[op.index]
            got = spec.run(plan, x32, None).astype(np.float64)
            want = float_op(model, op, x32.astype(np.float64))
            asymmetric = asymmetric_inputs(model, op)
            step = max(quantized_input(x32[b], asymmetric)[1] for b in range(x32.shape[0]))
            w = np.abs(weights_of(model, op.inputs[1]))
            bias = np.abs(model.tensors[op.inputs[2]].data.astype(np.float64))
            error = (step if asymmetric else step / 2) * linear(model, op, np.ones(x32.shape), w)
            rounding = 1e-6 * (linear(model, op, np.abs(x32.astype(np.float64)) + step, w) + bias)
            excess = np.abs(got - want) - (error + rounding)
            assert excess.max() <= 0, (f"{name} op #{op.index}: |hybrid - float| {np.abs(got - want).max():.4g} "
                                       f"exceeds its bound by {excess.max():.3g}")
            checked += 1
    assert checked == 8 * 5


def test_hybrid_against_the_dequantized_float_model(model):
    """The whole model on every golden input: the largest difference of the hybrid's outputs
    (probabilities) from the float model's is reported, and bounded by what the input
    quantization explains: the float model whose hybrid layers read their inputs as quantized
    (`quantized_input`, written here from TFLite's formulas) gives the hybrid's outputs to float32
    rounding, so |hybrid - float| <= |that - float| + 1e-5."""
    interpreter = Interpreter(model)
    inputs = golden_inputs()
    assert len(inputs) >= 8
    out = model.outputs[0]
    report, worst, explained, agree = [], 0.0, 0.0, 0
    for name, x in inputs:
        got = interpreter.invoke([x])[0].astype(np.float64)
        want = float_run(model, x)[out]
        modelled = float_run(model, x, quantize_hybrid_inputs=True)[out]
        diff = np.abs(got - want)
        assert np.all(diff <= np.abs(modelled - want) + 1e-5), (
            f"{name}: the hybrid differs from the float model by more than its input quantization explains "
            f"(|hybrid - modelled| up to {np.abs(got - modelled).max():.3g})")
        worst, explained = max(worst, float(diff.max())), max(explained, float(np.abs(got - modelled).max()))
        agree += int(np.argmax(got) == np.argmax(want))
        report.append(f"  {name}: max |hybrid - float| {diff.max():.3g}")
    print(f"\nkws_ref_model_float32, {len(inputs)} golden inputs (kws_ref_model's, dequantized): largest "
          f"|hybrid - float| of an output probability {worst:.3g}, same top class {agree} of {len(inputs)}; "
          f"the input quantization, modelled in float64, explains it to {explained:.2g}\n" + "\n".join(report))
