"""The element-wise ops of issue 12 in the numpy reference: within one quantization step of the
real-number function (an independent check of the fixed-point pipelines, which the tflm-ops set
compares with TFLM byte for byte), and refused with one line where TFLM's Prepare() refuses or
the arithmetic would be undefined."""

import numpy as np
import pytest

import synthetic_models as sm
from tinynet_py import tflite_builder as b
from tinynet_py import emit
from tinynet_py.errors import ModelError
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import parse_model

EVERY_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def unary(opcode, in_q, out_q, dtype="int8"):
    g = sm.Graph()
    x, y = g.tensor((1, 256), dtype, *in_q), g.tensor((1, 256), dtype, *out_q)
    g.op(opcode, [x], [y], sm.OPT[opcode], None)
    return parse_model(g.build([x], [y]), f"{opcode.lower()}.tflite")


def within_one_step(opcode, fn, in_q, out_q):
    got = Interpreter(unary(opcode, in_q, out_q)).invoke([EVERY_INT8])[0].ravel().astype(float)
    real = fn((EVERY_INT8.ravel().astype(float) - in_q[1]) * np.float32(in_q[0]))
    want = np.clip(np.round(real / np.float32(out_q[0])) + out_q[1], -128, 127)
    return np.max(np.abs(got - want))


@pytest.mark.parametrize("in_q, out_q", [((0.05, -10), (0.035, -90)), ((0.1, 0), (0.06, -120)),
                                         ((0.002, 3), (0.001, 0)), ((0.3, 50), (0.2, -128))])
def test_hard_swish_int8_within_one_step(in_q, out_q):
    assert within_one_step("HARD_SWISH", lambda v: v * np.clip(v + 3, 0, 6) / 6, in_q, out_q) <= 1


@pytest.mark.parametrize("in_q, out_q", [((0.05, 0), (0.04, -10)), ((0.1, 50), (0.1, 50)), ((0.03, 127), (1 / 255, 127))])
def test_elu_int8_within_one_step(in_q, out_q):
    assert within_one_step("ELU", lambda v: np.where(v < 0, np.expm1(v), v), in_q, out_q) <= 1


@pytest.mark.parametrize("in_q, out_q", [((0.05, 30), (0.03, -128)), ((0.1, -5), (0.1, 7))])
def test_abs_int8_within_one_step(in_q, out_q):
    assert within_one_step("ABS", np.abs, in_q, out_q) <= 1


def test_mul_div_squared_difference_int8_within_one_step():
    rng = np.random.default_rng(5)
    q1, q2, qo = (0.05, -7), (0.04, 12), (0.1, 3)
    x = rng.integers(-128, 128, (4, 64)).astype(np.int8)
    y = rng.integers(-128, 128, (4, 64)).astype(np.int8)
    y[y == q2[1]] = q2[1] + 1                                     # no division by zero
    a = (x.astype(float) - q1[1]) * np.float32(q1[0])
    c = (y.astype(float) - q2[1]) * np.float32(q2[0])
    for opcode, real in (("MUL", a * c), ("DIV", a / c), ("SQUARED_DIFFERENCE", (a - c) ** 2)):
        case = sm.binary_case(f"within_{opcode}", opcode, (4, 64), (4, 64), (4, 64), (q1, q2, qo))
        got = Interpreter(parse_model(case.data, "m.tflite")).invoke([x, y])[0].astype(float)
        want = np.clip(np.round(real / np.float32(qo[0])) + qo[1], -128, 127)
        checked = np.ones(x.shape, bool)
        if opcode == "DIV":
            # A dividend within 3 steps of its zero point has 29+ leading sign bits: with a divisor of
            # 64+ steps TFLM's final shift is 32 or more (undefined; see elementwise/div.hpp), and
            # the result, reproduced from its x86 build, is not the quotient.
            checked = np.abs(x.astype(int) - q1[1]) > 3
            assert np.any(got[~checked] != want[~checked])
        assert np.max(np.abs(got - want)[checked]) <= 1, opcode


@pytest.mark.parametrize("in_q, out_q", [((0.05, -128), (0.02, -128)), ((0.002, -128), (0.3, -100)),
                                         ((0.01, -20), (0.05, 0)), ((1.5, -128), (1 / 128, 0))])
def test_rsqrt_int8_within_one_step_above_the_zero_point(in_q, out_q):
    """RSQRT int8 (TFLM's quantized path) against 1/sqrt of the real value, for every input above
    the input zero point; at the zero point the result is the type's maximum (TFLM's rule)."""
    got = Interpreter(unary("RSQRT", in_q, out_q)).invoke([EVERY_INT8])[0].ravel().astype(float)
    x = EVERY_INT8.ravel().astype(int)
    above = x > in_q[1]
    real = 1 / np.sqrt((x[above] - in_q[1]) * np.float64(in_q[0]))
    want = np.clip(np.round(real / out_q[0]) + out_q[1], -128, 127)
    assert np.max(np.abs(got[above] - want)) <= 1
    assert np.all(got[x == in_q[1]] == 127)


def test_rsqrt_int16_within_one_step():
    got = Interpreter(unary("RSQRT", (0.001, 0), (0.002, 0), "int16")).invoke(
        [np.arange(1, 257, dtype=np.int16).reshape(1, 256) * 127])[0].ravel().astype(float)
    real = 1 / np.sqrt(np.arange(1, 257) * 127 * 0.001)
    assert np.max(np.abs(got - np.clip(np.round(real / 0.002), -32768, 32767))) <= 1


def prelu_int16_alpha():
    g = sm.Graph()
    x, alpha, y = (g.tensor((4,), "int16", 0.001, 0) for _ in range(3))
    g.op("PRELU", [x, alpha], [y])
    return sm.Case("prelu_int16_alpha", g.build([x, alpha], [y]), [])


@pytest.mark.parametrize("build, message", [
    (lambda: sm.binary_case("mul16_zp", "MUL", (4,), (4,), (4,), ((0.001, 1), (0.001, 0), (0.001, 0)),
                            dtype="int16"), "int16 MUL needs zero points 0"),
    (lambda: sm.binary_case("div_by_zero_point", "DIV", (4,), (4,), (4,), ((0.1, 0), (0.1, 3), (0.1, 0)),
                            constant=1, constant_values=[1, 2, 3, 4]), "at its zero point"),
    (lambda: prelu_int16_alpha(), "TFLM needs int8"),
    (lambda: sm.binary_case("mul_not_broadcast", "MUL", (3,), (4,), (4,), ((0.1, 0),) * 3), "do not broadcast"),
    (lambda: sm.unary_case("hard_swish_scale", "HARD_SWISH", 1.0, 0, 0.005, 0), "128 x the output scale"),
    (lambda: sm.unary_case("neg_int8", "NEG", 0.1, 0, 0.1, 0), "supported: float32"),
    *[(lambda op=op: sm.unary_case(f"{op.lower()}_int8", op, 0.1, 0, 0.1, 0), "supported: float32")
      for op in ("EXP", "LOG", "SQRT")],
    (lambda: sm.unary16_case("rsqrt16_zp", "RSQRT", ((0.001, 1), (0.002, 0))), "int16 RSQRT needs zero points 0"),
    (lambda: sm.unary16_case("rsqrt16_raw", "RSQRT"), "needs quantization parameters"),
    (lambda: sm.reduce_case("reduce_max16", "REDUCE_MAX", (2, 3), (1,), True, ((0.1, 0), (0.1, 0)), dtype="int16"),
     "supported: int8, float32"),
    (lambda: sm.reduce_case("reduce_max_requant", "REDUCE_MAX", (2, 3), (1,), True, ((0.1, 0), (0.2, 0))),
     "needs the output scale and zero point equal"),
    (lambda: sm.reduce_case("sum_axis_out_of_rank", "SUM", (2, 3), (2,), True, ((0.1, 0), (0.1, 0))),
     "outside the input's rank"),
])
def test_refused_with_one_line(build, message):
    with pytest.raises(ModelError) as error:
        Interpreter(parse_model(build().data, "m.tflite"))
    text = str(error.value)
    assert message in text and "\n" not in text


def test_an_op_of_constants_is_folded_into_the_next_ops_constant_operand():
    g = sm.Graph()
    q = (np.float32(0.1), 0)
    a = g.const(np.arange(4, dtype=np.int8), "int8", *q)
    c = g.const(np.full(4, 20, np.int8), "int8", *q)
    x, y, z = (g.tensor((4,), "int8", *q) for _ in range(3))
    g.op("MUL", [a, c], [y], sm.OPT["MUL"], b.T())                # 0.1 k * 2.0 = 0.2 k -> 2 k
    g.op("ADD", [x, y], [z], sm.OPT["ADD"], b.T())
    header = emit.generate_header(parse_model(g.build([x], [z]), "m.tflite"), "m")
    assert "tinynet::Mul<" not in header and "tinynet::ConstantTensor<std::int8_t" in header
    assert "0, 2, 4, 6," in header


def test_an_op_of_constants_writing_a_graph_output_is_refused():
    g = sm.Graph()
    q = (np.float32(0.1), 0)
    x, y = g.tensor((4,), "int8", *q), g.tensor((4,), "int8", *q)
    a = g.const(np.arange(4, dtype=np.int8), "int8", *q)
    z = g.tensor((4,), "int8", *q)
    g.op("ADD", [x, x], [y], sm.OPT["ADD"], b.T())
    g.op("MUL", [a, a], [z], sm.OPT["MUL"], b.T())
    with pytest.raises(ModelError, match="every input is a constant"):
        emit.generate_header(parse_model(g.build([x], [y, z]), "m.tflite"), "m")


def test_a_constant_operand_becomes_a_constant_tensor():
    case = sm.binary_case("const_operand_header", "MUL", (2, 3), (3,), (2, 3), ((0.1, 1), (0.2, -2), (0.3, 0)),
                          constant=1, constant_values=[5, -6, 7])
    header = emit.generate_header(parse_model(case.data, "m.tflite"), "m")
    assert "tinynet::ConstantTensor<std::int8_t, tinynet::Shape<3>, t1_values, t1_quant>" in header
    assert "5, -6, 7," in header


@pytest.mark.parametrize("axes, keep_dims", [((1,), True), ((0, 2), False), ((-1, 0, 1, 2), True)])
def test_sum_and_reduce_max_int8_against_numpy(axes, keep_dims):
    """SUM within one output step of the real sum; REDUCE_MAX the exact raw maximum."""
    rng = np.random.default_rng(5)
    x = rng.integers(-128, 128, (3, 4, 5)).astype(np.int8)
    resolved = tuple(sorted({a % 3 for a in axes}))
    (si, zi), (so, zo) = (0.02, -7), (0.5, 3)
    case = sm.reduce_case("sum_edges", "SUM", (3, 4, 5), axes, keep_dims, ((si, zi), (so, zo)))
    got = Interpreter(parse_model(case.data, "sum.tflite")).invoke([x])[0].astype(float)
    real = np.sum((x.astype(float) - zi) * np.float32(si), axis=resolved, keepdims=keep_dims)
    assert got.shape == real.shape
    assert np.max(np.abs(got - np.clip(np.round(real / so) + zo, -128, 127))) <= 1
    case = sm.reduce_case("max_edges", "REDUCE_MAX", (3, 4, 5), axes, keep_dims, ((si, zi), (si, zi)))
    got = Interpreter(parse_model(case.data, "max.tflite")).invoke([x])[0]
    assert np.array_equal(got, np.max(x, axis=resolved, keepdims=keep_dims))
