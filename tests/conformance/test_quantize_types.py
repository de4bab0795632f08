"""QUANTIZE between every pair of types TFLM's quantize.cc runs (EvalQuantizeReference):
float32 -> int8/int16, int8 -> int8/uint8/int16/int32, uint8 -> int8, int16 -> int8/int16/int32,
int32 -> int8/int16. Each pair is a one-op model built here, converted, compiled (all pairs in one
host program) and run on inputs that include its type's extremes; the expected outputs come from
TFLM's formulas written out below with Python integers (QuantizeMultiplier by frexp, the double-
rounding MultiplyByQuantizedMultiplier, AffineQuantize's float division), not from tinynet's code.
The pairs TFLM refuses at Invoke are refused by the generator with its one-line error.
"""

import math

import numpy as np
import pytest

from many_networks import HostProgram
from synthetic_models import OPCODES
from tinynet_py import tflite_builder as b
from tinynet_py import emit
from tinynet_py.errors import ModelError
from tinynet_py.tflite import parse_model

RNG = np.random.default_rng(20261203)
LIMITS = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (-2**31, 2**31 - 1)}

# (input type, scale, zero point) -> (output type, scale, zero point)
PAIRS = [
    (("float32", None, None), ("int16", 0.001, 3)),
    (("int8", 0.1, 5), ("uint8", 0.1, 133)),       # same scale: TFLM's "^ 0x80" shortcut case
    (("int8", 0.1, 5), ("uint8", 0.3, 100)),
    (("uint8", 0.05, 128), ("int8", 0.05, 0)),     # the image-input case
    (("uint8", 1 / 255, 0), ("int8", 0.0078125, -1)),
    (("int8", 0.2, -3), ("int16", 0.001, 0)),
    (("int8", 0.2, -3), ("int32", 0.0007, 11)),
    (("int16", 0.0005, 0), ("int16", 0.0013, 0)),
    (("int16", 0.0005, 7), ("int32", 0.0001, -9)),
    (("int32", 0.0004, 0), ("int8", 0.05, -2)),
    (("int32", 0.0004, 0), ("int16", 0.01, 4)),
]
REFUSED = [("uint8", "uint8"), ("uint8", "int16"), ("int16", "uint8"), ("int32", "int32"),
           ("float32", "uint8"), ("float32", "int32")]


def one_quantize(in_spec, out_spec, count):
    (in_type, in_scale, in_zp), (out_type, out_scale, out_zp) = in_spec, out_spec
    tensors = [b.tensor((1, count), in_type, name="x", scale=in_scale, zero_point=in_zp),
               b.tensor((1, count), out_type, name="y", scale=out_scale, zero_point=out_zp)]
    op = b.operator(0, [0], [1])
    return b.model(tensors, [op], [0], [1], [OPCODES["QUANTIZE"]])


# ---- TFLM's formulas, with Python integers ------------------------------------------------------

def quantize_multiplier(real):
    """QuantizeMultiplier (quantization_util.cc)."""
    if real == 0:
        return 0, 0
    mantissa, shift = math.frexp(real)
    q = math.floor(abs(mantissa) * 2**31 + 0.5)
    if q == 2**31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q, shift


def multiply_by_quantized_multiplier(x, q, shift):
    """The double-rounding MultiplyByQuantizedMultiplier: SaturatingRoundingDoublingHighMul of the
    left-shifted value, then RoundingDivideByPOT (ties away from zero)."""
    x = x * 2 ** max(shift, 0)
    product = x * q
    nudge = 2**30 if product >= 0 else 1 - 2**30
    n = product + nudge
    high = n // 2**31 if n >= 0 else -((-n) // 2**31)  # C's division truncates toward zero
    right = max(-shift, 0)
    if right == 0:
        return high
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if (high & mask) > threshold else 0)


def expected(in_spec, out_spec, x):
    (in_type, in_scale, in_zp), (out_type, out_scale, out_zp) = in_spec, out_spec
    lo, hi = LIMITS[out_type]
    if in_type == "float32":   # AffineQuantize: TfLiteRound(val / scale) in float, + zero point
        quotient = (x.astype(np.float32) / np.float32(out_scale)).astype(np.float64)
        values = [int(math.copysign(math.floor(abs(v) + 0.5), v)) + out_zp for v in quotient]
    else:                       # Requantize with QuantizeMultiplier(in_scale / out_scale)
        q, shift = quantize_multiplier(float(np.float32(in_scale)) / float(np.float32(out_scale)))
        values = [multiply_by_quantized_multiplier(int(v) - in_zp, q, shift) + out_zp for v in x]
    return np.array([min(max(v, lo), hi) for v in values], dtype=out_type)


def inputs_for(in_type, count):
    if in_type == "float32":
        return RNG.normal(0, 20, count).astype(np.float32)
    lo, hi = LIMITS[in_type]
    if in_type == "int32":  # half full-range, half near zero (what real int32 activations hold)
        x = np.concatenate([RNG.integers(lo, hi, count // 2, endpoint=True), RNG.integers(-300, 301, count)])
    else:
        x = np.arange(lo, hi + 1) if hi - lo < 256 else RNG.integers(lo, hi, count, endpoint=True)
    x = np.concatenate([[lo, hi, lo + 1, hi - 1], x])[:count]
    return x.astype(in_type)


COUNT = 260


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quantize-types")
    program = HostProgram("quantize-types", [parse_model(one_quantize(in_spec, out_spec, COUNT), f"quantize_{k}.tflite")
                                             for k, (in_spec, out_spec) in enumerate(PAIRS)])
    lines, outputs = [], {}
    for k, (in_spec, out_spec) in enumerate(PAIRS):
        x = inputs_for(in_spec[0], COUNT)
        x.tofile(folder / f"in_{k}.bin")
        lines.append((k, [folder / f"in_{k}.bin"], [folder / f"out_{k}.bin"]))
        outputs[k] = (x, folder / f"out_{k}.bin")
    program.run(folder, lines)
    return outputs


@pytest.mark.parametrize("k", range(len(PAIRS)), ids=[f"{p[0][0]}_to_{p[1][0]}_{k}" for k, p in enumerate(PAIRS)])
def test_quantize_pair_matches_tflm_formula(k, program):
    in_spec, out_spec = PAIRS[k]
    x, path = program[k]
    got = np.fromfile(path, dtype=out_spec[0])
    want = expected(in_spec, out_spec, x)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} values differ, first at {bad[0]}: input {x[bad[0]]!r} -> {got[bad[0]]}, " \
                          f"TFLM's formula {want[bad[0]]}"


@pytest.mark.parametrize("in_type, out_type", REFUSED)
def test_quantize_pair_tflm_refuses_is_refused(in_type, out_type):
    spec = {"float32": (None, None), "uint8": (0.1, 128)}.get(in_type, (0.1, 0))
    model = parse_model(one_quantize((in_type, *spec), (out_type, 0.1, 0), 4), "refused.tflite")
    with pytest.raises(ModelError) as error:
        emit.generate_header(model, "refused")
    assert "\n" not in str(error.value) and "not to " + out_type in str(error.value)


def test_dequantize_from_uint8_is_refused():
    """TFLM's DequantizePrepare takes int8 or int16 only."""
    tensors = [b.tensor((1, 4), "uint8", name="x", scale=0.1, zero_point=128), b.tensor((1, 4), "float32", name="y")]
    data = b.model(tensors, [b.operator(0, [0], [1])], [0], [1], [OPCODES["DEQUANTIZE"]])
    with pytest.raises(ModelError) as error:
        emit.generate_header(parse_model(data, "dequantize.tflite"), "refused")
    assert "\n" not in str(error.value) and "uint8" in str(error.value)
