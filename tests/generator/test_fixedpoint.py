"""TFLM's integer primitives (tinynet_py.fixedpoint) on values worked out by hand."""

import math

import numpy as np
import pytest

from tinynet_py import fixedpoint as fp


@pytest.mark.parametrize("real, expected", [
    (0.0, (0, 0)),
    (0.5, (1 << 30, 0)),
    (1.0, (1 << 30, 1)),
    (0.75, (3 << 29, 0)),
    (2.0 ** -40, (0, 0)),                       # shift < -31 flushes to zero
    (1.0 - 2.0 ** -40, (1 << 30, 1)),           # mantissa rounds to 2^31: halve, shift + 1
])
def test_quantize_multiplier(real, expected):
    assert fp.quantize_multiplier(real) == expected


def test_quantize_multiplier_rounds_half_away_from_zero():
    # mantissa * 2^31 = 2^30 + 0.5 exactly: rounds up.
    real = (2 ** 30 + 0.5) / 2 ** 31
    assert fp.quantize_multiplier(real) == (2 ** 30 + 1, 0)


def test_srdhm():
    assert fp.srdhm(fp.INT32_MIN, fp.INT32_MIN) == fp.INT32_MAX
    assert fp.srdhm(1 << 30, 1 << 30) == 1 << 29
    # (3 * 2^30 + 2^30) / 2^31 = 2: 3 * (1 << 30) * 1 / 2^31 = 1.5 -> 2 (nudge rounds up)
    assert fp.srdhm(3, 1 << 30) == 2
    # -1.5: the nudge 1 - 2^30 and C's truncation give -1 (ties toward zero when negative)
    assert fp.srdhm(-3, 1 << 30) == -1


def test_srdhm_matches_c_semantics():
    rng = np.random.default_rng(1)
    a = rng.integers(fp.INT32_MIN, fp.INT32_MAX, 2000, dtype=np.int64)
    b = rng.integers(fp.INT32_MIN, fp.INT32_MAX, 2000, dtype=np.int64)
    got = fp.srdhm(a, b)
    for x, y, g in zip(a.tolist(), b.tolist(), got.tolist()):
        ab = x * y
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        want = int((ab + nudge) / 2 ** 31) if abs(ab + nudge) < 2 ** 52 else \
            (abs(ab + nudge) >> 31) * (1 if ab + nudge >= 0 else -1)
        assert g == want


@pytest.mark.parametrize("x, exponent, expected", [
    (5, 1, 3), (-5, 1, -3), (4, 1, 2), (-4, 1, -2), (6, 2, 2), (-6, 2, -2), (-7, 2, -2),
    (7, 0, 7), (-(1 << 31), 31, -1), ((1 << 31) - 1, 31, 1),
])
def test_rounding_divide_by_pot(x, exponent, expected):
    assert fp.rounding_divide_by_pot(x, exponent) == expected


def test_multiply_by_quantized_multiplier_double_rounding():
    # multiplier 0.5 (2^30, shift 0): 3 * 0.5 = 1.5 -> 2; shift -1 then divides by 2 again.
    assert fp.multiply_by_quantized_multiplier(3, 1 << 30, 0) == 2
    assert fp.multiply_by_quantized_multiplier(-3, 1 << 30, 0) == -1
    # Double rounding: 5 * 0.75 = 3.75 -> srdhm gives 4 (rounded), then / 2 -> 2.
    q, shift = fp.quantize_multiplier(0.375)
    assert (q, shift) == (3 << 29, -1)
    assert fp.multiply_by_quantized_multiplier(5, q, shift) == 2
    # A positive shift multiplies first (wrapping like C's int32).
    assert fp.multiply_by_quantized_multiplier(100, 1 << 30, 2) == 200


def test_multiply_by_quantized_multiplier_int64():
    q, shift = fp.quantize_multiplier(0.001)
    x = np.array([10 ** 9, -(10 ** 9), 12345, 0], np.int64)
    got = fp.multiply_by_quantized_multiplier_int64(x, q, shift)
    reduced = (q + (1 << 15)) >> 16
    total = 15 - shift
    want = [(v * reduced + (1 << (total - 1))) >> total for v in x.tolist()]
    assert got.tolist() == want
    assert abs(got[0] - 10 ** 6) <= 10 ** 6 * 2 ** -15   # 16-bit reduced multiplier


def test_exp_on_negative_values_is_close_to_exp():
    for bits in (0, 4, 5, 12):
        raw = np.linspace(-(1 << 31) + 1, 0, 4001).astype(np.int64)
        real = raw / 2.0 ** (31 - bits)
        got = fp.exp_on_negative_values(raw, bits) / 2.0 ** 31
        assert np.max(np.abs(got - np.exp(real))) < 1e-6 * 4


def test_logistic_and_tanh_are_close():
    raw = np.linspace(-(1 << 31) + 1, (1 << 31) - 1, 4001).astype(np.int64)
    real = raw / 2.0 ** 27
    assert np.max(np.abs(fp.logistic(raw, 4) / 2.0 ** 31 - 1 / (1 + np.exp(-real)))) < 1e-6
    assert np.max(np.abs(fp.tanh(raw, 4) / 2.0 ** 31 - np.tanh(real))) < 1e-6


def test_get_reciprocal():
    for value in (1.0, 1.25, 3.0, 100.5, 4000.0):
        raw = int(value * 2 ** 19)                       # Q12.19
        reciprocal, bits = fp.get_reciprocal(np.array([raw]), 12)
        approx = reciprocal[0] / 2.0 ** 31 / 2.0 ** bits[0]
        assert math.isclose(approx, 1 / value, rel_tol=1e-6)


def test_wrap32():
    assert fp.wrap32(1 << 31) == fp.INT32_MIN
    assert fp.wrap32(-(1 << 31) - 1) == fp.INT32_MAX
