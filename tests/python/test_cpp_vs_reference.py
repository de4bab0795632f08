"""The C++ kernels against the numpy reference interpreter (an independent implementation of the
same TFLM arithmetic) on synthetic one-op models, for the kernels and parameters no golden model
covers: Logistic and Tanh on every int8 value, Softmax, dilated/strided/VALID convolutions,
depthwise multipliers, pools with SAME padding, Mean, broadcasting Add/Sub with fused ReLU6,
Quantize and Dequantize. Outputs must be the same bytes."""

import numpy as np
import pytest

import tflite_builder as b
from tinynet_py import emit, runner, schema
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import parse_model

OPCODES = {name: code for code, name in enumerate(schema.BUILTIN_OPERATORS)}
RNG = np.random.default_rng(20261125)


def check(opcode, tensors, inputs, outputs, feeds, tmp_path, buffers=(), options_type=0, options=None):
    """Builds a one-op model, runs it through the C++ header on the host and through the numpy
    reference; asserts equal bytes for every feed (a list of input arrays)."""
    op = b.operator(0, inputs, outputs, options_type, options)
    graph_inputs = [i for i in inputs if i >= 0 and tensors[i].fields[2][1] == 0]
    data = b.model(tensors, [op], graph_inputs, outputs, [OPCODES[opcode]], buffers)
    path = tmp_path / f"{opcode.lower()}.tflite"
    path.write_bytes(data)
    model = parse_model(data, str(path))
    reference = Interpreter(model)
    binary = runner.build_host(emit.generate_header(model, "m"), "m", len(model.inputs), len(model.outputs))
    for k, feed in enumerate(feeds):
        files = []
        for j, array in enumerate(feed):
            f = tmp_path / f"in{k}_{j}.bin"
            np.ascontiguousarray(array).tofile(f)
            files.append(f)
        out = tmp_path / f"out{k}.bin"
        runner.run_host(binary, files, [out])
        want = reference.invoke(list(feed))[0]
        got = np.fromfile(out, dtype=want.dtype).reshape(want.shape)
        assert np.array_equal(got, want), f"{opcode} feed {k}: C++ {got.ravel()[:16]} reference {want.ravel()[:16]}"


def int8_feeds(shape, zero_point, count=3):
    feeds = [[np.full(shape, v, np.int8)] for v in (-128, 127, zero_point)]
    feeds += [[RNG.integers(-128, 128, shape).astype(np.int8)] for _ in range(count)]
    return feeds


@pytest.mark.parametrize("opcode, out_scale, out_zp", [("LOGISTIC", 1 / 256, -128), ("TANH", 1 / 128, 0)])
@pytest.mark.parametrize("in_scale, in_zp", [(0.05, 3), (0.2, -20), (0.01, 0), (0.0123, 127)])
def test_logistic_tanh_every_value(opcode, out_scale, out_zp, in_scale, in_zp, tmp_path):
    tensors = [b.tensor((1, 256), "int8", scale=in_scale, zero_point=in_zp),
               b.tensor((1, 256), "int8", scale=out_scale, zero_point=out_zp)]
    check(opcode, tensors, [0], [1], [[np.arange(-128, 128).astype(np.int8).reshape(1, 256)]], tmp_path)


@pytest.mark.parametrize("in_scale, beta", [(0.05, 1.0), (0.3, 1.0), (0.1, 0.5), (1.0, 1.0)])
def test_softmax(in_scale, beta, tmp_path):
    tensors = [b.tensor((3, 10), "int8", scale=in_scale, zero_point=2),
               b.tensor((3, 10), "int8", scale=1 / 256, zero_point=-128)]
    check("SOFTMAX", tensors, [0], [1], int8_feeds((3, 10), 2), tmp_path, (), 9, b.T(f0=("float32", beta)))


@pytest.mark.parametrize("depthwise", [False, True])
@pytest.mark.parametrize("stride, dilation, padding", [((1, 1), (1, 1), "SAME"), ((2, 1), (1, 2), "SAME"),
                                                       ((2, 2), (1, 1), "VALID"), ((1, 2), (2, 1), "VALID")])
@pytest.mark.parametrize("in_zp", [-128, 7, 127])
def test_conv_and_depthwise(depthwise, stride, dilation, padding, in_zp, tmp_path):
    in_c, kh, kw = 4, 3, 2
    if depthwise:
        out_c = in_c * 2  # depth multiplier 2
        w = RNG.integers(-127, 128, (1, kh, kw, out_c)).astype(np.int8)
    else:
        out_c = 6
        w = RNG.integers(-127, 128, (out_c, kh, kw, in_c)).astype(np.int8)
    bias = RNG.integers(-5000, 5000, out_c).astype(np.int32)
    scales = RNG.uniform(0.002, 0.02, out_c).astype(np.float32)
    in_hw = (7, 6)
    eff = [(k - 1) * d + 1 for k, d in zip((kh, kw), dilation)]
    if padding == "SAME":
        out_hw = [(s + st - 1) // st for s, st in zip(in_hw, stride)]
    else:
        out_hw = [(s - e + st) // st for s, e, st in zip(in_hw, eff, stride)]
    tensors = [b.tensor((1, *in_hw, in_c), "int8", name="x", scale=0.05, zero_point=in_zp),
               b.tensor(w.shape, "int8", buffer=1, name="w", scale=scales, zero_point=[0] * out_c,
                        quantized_dimension=3 if depthwise else 0),
               b.tensor((out_c,), "int32", buffer=2, name="b", scale=scales * 0.05),
               b.tensor((1, *out_hw, out_c), "int8", name="y", scale=0.1, zero_point=-5)]
    pad_code = 0 if padding == "SAME" else 1
    feeds = int8_feeds((1, *in_hw, in_c), in_zp)
    if depthwise:
        options = b.T(f0=("int8", pad_code), f1=("int32", stride[1]), f2=("int32", stride[0]), f3=("int32", 2),
                      f4=("int8", 3), f5=("int32", dilation[1]), f6=("int32", dilation[0]))
        check("DEPTHWISE_CONV_2D", tensors, [0, 1, 2], [3], feeds, tmp_path, [w.tobytes(), bias.tobytes()], 2, options)
    else:
        options = b.T(f0=("int8", pad_code), f1=("int32", stride[1]), f2=("int32", stride[0]), f3=("int8", 3),
                      f4=("int32", dilation[1]), f5=("int32", dilation[0]))
        check("CONV_2D", tensors, [0, 1, 2], [3], feeds, tmp_path, [w.tobytes(), bias.tobytes()], 1, options)


@pytest.mark.parametrize("opcode", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_pools(opcode, padding, tmp_path):
    out_hw = (3, 3) if padding == "SAME" else (2, 2)
    tensors = [b.tensor((1, 5, 6, 3), "int8", scale=0.1, zero_point=-3),
               b.tensor((1, *out_hw, 3), "int8", scale=0.1, zero_point=-3)]
    options = b.T(f0=("int8", 0 if padding == "SAME" else 1), f1=("int32", 2), f2=("int32", 2),
                  f3=("int32", 3), f4=("int32", 2), f5=("int8", 1))  # stride 2x2, filter 2x3, RELU
    check(opcode, tensors, [0], [1], int8_feeds((1, 5, 6, 3), -3), tmp_path, (), 5, options)


def test_mean(tmp_path):
    tensors = [b.tensor((1, 4, 5, 3), "int8", scale=0.2, zero_point=-10),
               b.tensor((2,), "int32", buffer=1, name="axis"),
               b.tensor((1, 1, 1, 3), "int8", scale=0.1, zero_point=4)]
    check("MEAN", tensors, [0, 1], [2], int8_feeds((1, 4, 5, 3), -10), tmp_path,
          [np.array([1, 2], np.int32).tobytes()], 27, b.T(f0=("bool", 1)))


@pytest.mark.parametrize("opcode", ["ADD", "SUB"])
@pytest.mark.parametrize("activation", [0, 3])  # NONE, RELU6
def test_add_sub_broadcast(opcode, activation, tmp_path):
    tensors = [b.tensor((1, 2, 3, 4), "int8", scale=0.07, zero_point=-3),
               b.tensor((1, 1, 1, 4), "int8", scale=0.11, zero_point=9),
               b.tensor((1, 2, 3, 4), "int8", scale=0.05, zero_point=-128)]
    feeds = [[RNG.integers(-128, 128, (1, 2, 3, 4)).astype(np.int8), RNG.integers(-128, 128, (1, 1, 1, 4)).astype(np.int8)]
             for _ in range(4)]
    options_type = 11 if opcode == "ADD" else 28  # AddOptions, SubOptions
    check(opcode, tensors, [0, 1], [2], feeds, tmp_path, (), options_type, b.T(f0=("int8", activation)))


def test_quantize_float_and_dequantize(tmp_path):
    tensors = [b.tensor((1, 64), "float32"), b.tensor((1, 64), "int8", scale=0.037, zero_point=-7)]
    feeds = [[RNG.uniform(-6, 6, (1, 64)).astype(np.float32)] for _ in range(3)]
    check("QUANTIZE", tensors, [0], [1], feeds, tmp_path)
    tensors = [b.tensor((1, 64), "int8", scale=0.037, zero_point=-7), b.tensor((1, 64), "float32")]
    check("DEQUANTIZE", tensors, [0], [1], int8_feeds((1, 64), -7), tmp_path)
