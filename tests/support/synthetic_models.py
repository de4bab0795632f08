"""Synthetic TFLite models for the C++ vs numpy-reference differential test
(test_cpp_vs_reference.py): seeded random weights, scales, zero points, shapes and options for
every op tinynet supports, plus a few 2-3 op chains; and fc_model, the small FULLY_CONNECTED model
that the error and convert tests vary.

Each generator returns Case objects: a name, the model bytes, a list of feeds (one array per graph
input; int8 feeds always include all -128, all 127 and every input at its zero point), and for
float models the tolerance (the numpy reference accumulates in float64, the C++ in float32).
A case may carry `expected`, a function feed -> outputs used instead of the reference interpreter
when the reference cannot run the model itself (grouped convolution, composed from per-group
reference runs).
A stateful model's case (SVDF) carries `invokes`: each feed runs that many times from the reset
state, and the outputs of the last invoke are compared.
"""

import zlib
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from tinynet_py import tflite_builder as b
from tinynet_py import schema


def fc_model(version=3, identifier=b"TFL3", opcode=9, input_signature=None, dtype="int8",
             extra_subgraphs=(), input_scale=0.5, input_zero_point=-1, output_scale=0.75,
             weight_scale=0.25, inputs=(0,), weights_shape=(3, 4)):
    """A valid int8 FULLY_CONNECTED model 1x4 -> 1x3 (variants for the error cases)."""
    weights = np.arange(-6, 6, dtype=np.int8).reshape(3, 4)
    bias = np.array([10, -20, 30], dtype=np.int32)
    tensors = [
        b.tensor((1, 4), dtype, name="input", scale=input_scale, zero_point=input_zero_point,
                 shape_signature=input_signature),
        b.tensor(weights_shape, "int8", buffer=1, name="weights", scale=weight_scale),
        b.tensor((3,), "int32", buffer=2, name="bias", scale=0.125),
        b.tensor((1, 3), "int8", name="output", scale=output_scale, zero_point=3),
    ]
    op = b.operator(0, [0, 1, 2], [3], 8, b.T(f0=("int8", 0)))
    return b.model(tensors, [op], list(inputs), [3], [opcode], [weights.tobytes(), bias.tobytes()],
                   version=version, identifier=identifier, extra_subgraphs=extra_subgraphs)


OPCODES = {name: code for code, name in enumerate(schema.BUILTIN_OPERATORS)}
ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
PAD = {"SAME": 0, "VALID": 1}
# BuiltinOptions union type codes (schema.fbs).
OPT = {"CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "POOL": 5, "FULLY_CONNECTED": 8, "SOFTMAX": 9,
       "CONCATENATION": 10, "ADD": 11, "RESHAPE": 17, "PAD": 22, "MEAN": 27, "SUB": 28,
       "STRIDED_SLICE": 32, "DEQUANTIZE": 38, "PADV2": 43, "LEAKY_RELU": 75, "QUANTIZE": 89,
       "MUL": 21, "DIV": 29, "MAXIMUM": 39, "MINIMUM": 39, "NEG": 42, "SQUARED_DIFFERENCE": 76,
       "ABS": 78, "HARD_SWISH": 91, "PRELU": 0, "ELU": 0,
       "EXP": 33, "LOG": 0, "SQRT": 0, "RSQRT": 0,
       "TRANSPOSE_CONV": 49, "BATCH_MATMUL": 101, "UNIDIRECTIONAL_SEQUENCE_LSTM": 71}

F32 = np.float32


@dataclass
class Case:
    name: str
    data: bytes
    feeds: list
    tolerance: Optional[float] = None            # float outputs: relative tolerance
    expected: Optional[Callable] = None          # feed -> list of outputs (else the reference)
    tags: list = field(default_factory=list)
    invokes: int = 1                             # invokes per feed, state carried (stateful models)


class Graph:
    """A small wrapper over tflite_builder: tensors, constant buffers, ops, opcodes."""

    def __init__(self):
        self.tensors, self.buffers, self.ops, self.opcodes = [], [], [], []

    def tensor(self, shape, dtype, scale=None, zero_point=None, data=None, qdim=0, variable=False):
        buffer = 0
        if data is not None:
            self.buffers.append(np.ascontiguousarray(data).tobytes())
            buffer = len(self.buffers)
        if scale is not None:
            scale = [F32(s) for s in np.atleast_1d(scale)]
            if zero_point is None:
                zero_point = [0] * len(scale)
        self.tensors.append(b.tensor(tuple(int(d) for d in shape), dtype, buffer=buffer,
                                     name=f"t{len(self.tensors)}", scale=scale,
                                     zero_point=zero_point, quantized_dimension=qdim,
                                     is_variable=variable))
        return len(self.tensors) - 1

    def q8(self, shape, scale, zero_point):
        """An int8 activation tensor."""
        return self.tensor(shape, "int8", scale, zero_point)

    def f32(self, shape):
        return self.tensor(shape, "float32")

    def const(self, array, dtype, scale=None, zero_point=None, qdim=0):
        array = np.asarray(array)
        return self.tensor(array.shape, dtype, scale, zero_point, data=array, qdim=qdim)

    def op(self, opcode, inputs, outputs, options_type=0, options=None):
        if opcode not in self.opcodes:
            self.opcodes.append(opcode)
        self.ops.append(b.operator(self.opcodes.index(opcode), list(inputs), list(outputs),
                                   options_type, options))

    def activations(self, rng, dtype, in_shapes, out_shapes, in_quants=(), out_quant=None):
        """The activation tensors of a case and its feeds, float32 or int8: (inputs, outputs,
        feeds). float32: quantization ignored, float_feeds. int8: each input with its (scale, zero
        point) of in_quants, every output with out_quant, int8_feeds."""
        if dtype == "float32":
            return ([self.f32(s) for s in in_shapes], [self.f32(s) for s in out_shapes],
                    float_feeds(rng, list(in_shapes)))
        xs = [self.q8(s, *q) for s, q in zip(in_shapes, in_quants)]
        ys = [self.q8(s, *out_quant) for s in out_shapes]
        return xs, ys, int8_feeds(rng, list(in_shapes), [z for _, z in in_quants])

    def build(self, inputs, outputs):
        return b.model(self.tensors, self.ops, list(inputs), list(outputs),
                       [OPCODES[o] for o in self.opcodes], self.buffers)


def rng_for(name):
    """A generator seeded by the case name: a case's data do not depend on the others."""
    return np.random.default_rng(zlib.crc32(name.encode()))


# ---- feeds -------------------------------------------------------------------------------------

def int8_feeds(rng, shapes, zero_points, random_count=3):
    """all -128, all 127, every input at its zero point, mixed extremes (several inputs), values
    near the zero point, and uniform random inputs."""
    feeds = [[np.full(s, -128, np.int8) for s in shapes],
             [np.full(s, 127, np.int8) for s in shapes],
             [np.full(s, zp, np.int8) for s, zp in zip(shapes, zero_points)]]
    if len(shapes) > 1:
        feeds.append([np.full(s, -128 if k % 2 else 127, np.int8) for k, s in enumerate(shapes)])
    feeds.append([np.clip(zp + rng.integers(-3, 4, s), -128, 127).astype(np.int8)
                  for s, zp in zip(shapes, zero_points)])
    for _ in range(random_count):
        feeds.append([rng.integers(-128, 128, s).astype(np.int8) for s in shapes])
    return feeds


def float_feeds(rng, shapes, spread=3.0, random_count=3):
    feeds = [[np.zeros(s, F32) for s in shapes]]
    for k in range(random_count):
        feeds.append([(rng.standard_normal(s) * spread * (k + 1)).astype(F32) for s in shapes])
    return feeds


# ---- weights and scales ------------------------------------------------------------------------

def weight_scales(rng, count, per_channel):
    return rng.uniform(0.002, 0.03, count if per_channel else 1).astype(F32)


def output_scale_for(in_scale, w_scales, accumulation_span, multiplier):
    """An output scale giving real multipliers (in_scale * w_scale / out_scale) of the kind asked,
    for the first channel: 'normal' fits the accumulator's typical span into int8; 'one' is within
    2^-24 of 1 (the float product rounded); 'below_one' just under 1; 'big' is 3.7 (a left shift);
    'small' about 2^-18; 'tiny' about 2^-31.5 (right shift 31); 'zero' about 2^-33
    (QuantizeMultiplier gives multiplier 0)."""
    product = float(in_scale) * float(w_scales[0])
    if multiplier == "normal":
        return F32(product * accumulation_span / 100.0)
    if multiplier == "one":
        return F32(F32(in_scale) * F32(w_scales[0]))
    if multiplier == "below_one":
        return np.nextafter(F32(F32(in_scale) * F32(w_scales[0])), F32(1))
    if multiplier == "big":
        return F32(product / 3.7)
    exponents = {"small": 18, "tiny": 31.5, "zero": 33}
    return F32(product * 2.0 ** exponents[multiplier])


NEAR_ONE = ("one", "below_one", "big", "fixup")


def fixup_scales(count):
    """Input and weight scales whose double product is 2^-13 * (1 - 2^-40): with an output scale of
    2^-13 the real multiplier's mantissa rounds to 2^31 (QuantizeMultiplier halves it and bumps the
    shift); the float product (per-tensor FullyConnected) is exactly 2^-13."""
    in_scale = F32(2.0 ** -6 * (1 + 2.0 ** -20))
    w = np.full(count, F32(2.0 ** -7 * (1 - 2.0 ** -20)), F32)
    return in_scale, w, F32(2.0 ** -13)


def small_weights_if(multiplier, rng, shape):
    """Weights for a case: the full int8 range, or [-3, 3] when the multiplier is near 1 or above
    (so that accumulations near the zero point stay inside the output range)."""
    bound = 3 if multiplier in NEAR_ONE else 127
    return rng.integers(-bound, bound + 1, shape).astype(np.int8)


def pick_scales(rng, channels, per_channel, multiplier, accumulation_span):
    """(input scale, weight scales, output scale) for a weighted op."""
    if multiplier == "fixup":
        in_scale, w, out_scale = fixup_scales(channels if per_channel else 1)
        if per_channel:  # the other channels get ordinary scales
            w[1:] = weight_scales(rng, channels - 1, True) * F32(0.01)
        return in_scale, w, out_scale
    in_scale = F32(rng.uniform(0.01, 0.1))
    scales = weight_scales(rng, channels, per_channel)
    return in_scale, scales, output_scale_for(in_scale, scales, accumulation_span, multiplier)


def pick_bias(rng, channels, multiplier):
    return int32_bias(rng, channels, 100 if multiplier in NEAR_ONE else 20000)


def int32_bias(rng, count, magnitude):
    return rng.integers(-magnitude, magnitude + 1, count).astype(np.int32)


# ---- conv-like ops -----------------------------------------------------------------------------

def out_size(padding, size, kernel, stride, dilation):
    effective = (kernel - 1) * dilation + 1
    if padding == "SAME":
        return (size + stride - 1) // stride
    return (size + stride - effective) // stride


def conv_case(name, in_shape, out_c, kernel, stride=(1, 1), dilation=(1, 1), padding="SAME",
              activation="NONE", in_zp=3, out_zp=-5, per_channel=True, bias=True,
              multiplier="normal", dtype="int8", groups=1):
    rng = rng_for(name)
    n, h, w, c = in_shape
    oh = out_size(padding, h, kernel[0], stride[0], dilation[0])
    ow = out_size(padding, w, kernel[1], stride[1], dilation[1])
    filter_c = c // groups
    g = Graph()
    options = b.T(f0=("int8", PAD[padding]), f1=("int32", stride[1]), f2=("int32", stride[0]),
                  f3=("int8", ACT[activation]), f4=("int32", dilation[1]), f5=("int32", dilation[0]))
    if dtype == "float32":
        x = g.f32(in_shape)
        wt = g.const(rng.standard_normal((out_c, *kernel, filter_c)).astype(F32) * 0.3, "float32")
        bt = g.const(rng.standard_normal(out_c).astype(F32), "float32") if bias else -1
        y = g.f32((n, oh, ow, out_c))
        g.op("CONV_2D", [x, wt, bt], [y], OPT["CONV_2D"], options)
        return Case(name, g.build([x], [y]), float_feeds(rng, [in_shape]), tolerance=1e-5)
    if dtype == "hybrid":
        return hybrid_case(name, rng, g, "CONV_2D", options, in_shape, (out_c, *kernel, filter_c), 0,
                           (n, oh, ow, out_c), per_channel, bias)
    in_scale, scales, out_scale = pick_scales(rng, out_c, per_channel, multiplier,
                                              127 * 128 * kernel[0] * kernel[1] * filter_c ** 0.5)
    weights = small_weights_if(multiplier, rng, (out_c, *kernel, filter_c))
    x = g.q8(in_shape, in_scale, in_zp)
    wt = g.const(weights, "int8", scales, [0] * len(scales), qdim=0)
    bt = g.const(pick_bias(rng, out_c, multiplier), "int32", scales * in_scale) if bias else -1
    y = g.q8((n, oh, ow, out_c), out_scale, out_zp)
    g.op("CONV_2D", [x, wt, bt], [y], OPT["CONV_2D"], options)
    case = Case(name, g.build([x], [y]), int8_feeds(rng, [in_shape], [in_zp]))
    if groups > 1:
        case.expected = grouped_conv_expectation(g, weights, scales, bt, in_scale, out_scale,
                                                 in_zp, out_zp, groups, options, in_shape,
                                                 (n, oh, ow, out_c))
    return case


def hybrid_case(name, rng, g, opcode, options, in_shape, weights_shape, qdim, out_shape, per_channel, bias):
    """A hybrid layer: float input and output, int8 weights with scales along qdim (TFLite's
    dynamic-range quantization), float bias. Feeds: zeros, random, and constant inputs (one value:
    a range from 0 to it)."""
    channels = weights_shape[qdim]
    x = g.f32(in_shape)
    wt = g.const(rng.integers(-127, 128, weights_shape).astype(np.int8), "int8",
                 weight_scales(rng, channels, per_channel), [0] * (channels if per_channel else 1), qdim=qdim)
    bt = g.const(rng.standard_normal(channels).astype(F32), "float32") if bias else -1
    y = g.f32(out_shape)
    g.op(opcode, [x, wt, bt], [y], OPT[opcode], options)
    feeds = float_feeds(rng, [in_shape]) + [[np.full(in_shape, v, F32)] for v in (0.75, -2.5)]
    return Case(name, g.build([x], [y]), feeds)


def grouped_conv_expectation(g, weights, scales, bias_index, in_scale, out_scale, in_zp, out_zp,
                             groups, options, in_shape, out_shape):
    """The numpy reference refuses grouped convolutions; TFLM's ConvPerChannel computes group k's
    output channels from input channels [k * filter_c, (k + 1) * filter_c) only, so the expected
    output is the per-group ungrouped convolutions, each run by the reference, concatenated."""
    from tinynet_py.reference import Interpreter
    from tinynet_py.tflite import parse_model
    out_c = weights.shape[0]
    per_group = out_c // groups
    filter_c = weights.shape[3]
    bias = None
    if bias_index >= 0:
        bias = np.frombuffer(g.buffers[g.tensors[bias_index].fields[2][1] - 1], np.int32)
    interpreters = []
    for k in range(groups):
        sub = Graph()
        channels = slice(k * per_group, (k + 1) * per_group)
        group_scales = scales if scales.size == 1 else scales[channels]
        x = sub.q8((*in_shape[:3], filter_c), in_scale, in_zp)
        wt = sub.const(weights[channels], "int8", group_scales, [0] * group_scales.size)
        bt = sub.const(bias[channels], "int32", group_scales * in_scale) if bias is not None else -1
        y = sub.q8((*out_shape[:3], per_group), out_scale, out_zp)
        sub.op("CONV_2D", [x, wt, bt], [y], OPT["CONV_2D"], options)
        interpreters.append(Interpreter(parse_model(sub.build([x], [y]), f"group{k}.tflite")))

    def expected(feed):
        x = feed[0]
        parts = [it.invoke([x[..., k * filter_c:(k + 1) * filter_c]])[0]
                 for k, it in enumerate(interpreters)]
        return [np.concatenate(parts, axis=-1)]
    return expected


def depthwise_case(name, in_shape, multiplier_depth, kernel, stride=(1, 1), dilation=(1, 1),
                   padding="SAME", activation="NONE", in_zp=3, out_zp=-5, per_channel=True,
                   bias=True, multiplier="normal", dtype="int8"):
    rng = rng_for(name)
    n, h, w, c = in_shape
    out_c = c * multiplier_depth
    oh = out_size(padding, h, kernel[0], stride[0], dilation[0])
    ow = out_size(padding, w, kernel[1], stride[1], dilation[1])
    g = Graph()
    options = b.T(f0=("int8", PAD[padding]), f1=("int32", stride[1]), f2=("int32", stride[0]),
                  f3=("int32", multiplier_depth), f4=("int8", ACT[activation]),
                  f5=("int32", dilation[1]), f6=("int32", dilation[0]))
    if dtype == "float32":
        x = g.f32(in_shape)
        wt = g.const(rng.standard_normal((1, *kernel, out_c)).astype(F32) * 0.3, "float32")
        bt = g.const(rng.standard_normal(out_c).astype(F32), "float32") if bias else -1
        y = g.f32((n, oh, ow, out_c))
        g.op("DEPTHWISE_CONV_2D", [x, wt, bt], [y], OPT["DEPTHWISE_CONV_2D"], options)
        return Case(name, g.build([x], [y]), float_feeds(rng, [in_shape]), tolerance=1e-5)
    if dtype == "hybrid":
        return hybrid_case(name, rng, g, "DEPTHWISE_CONV_2D", options, in_shape, (1, *kernel, out_c), 3,
                           (n, oh, ow, out_c), per_channel, bias)
    in_scale, scales, out_scale = pick_scales(rng, out_c, per_channel, multiplier,
                                              127 * 128 * (kernel[0] * kernel[1]) ** 0.5)
    weights = small_weights_if(multiplier, rng, (1, *kernel, out_c))
    x = g.q8(in_shape, in_scale, in_zp)
    wt = g.const(weights, "int8", scales, [0] * len(scales), qdim=3)
    bt = g.const(pick_bias(rng, out_c, multiplier), "int32", scales * in_scale) if bias else -1
    y = g.q8((n, oh, ow, out_c), out_scale, out_zp)
    g.op("DEPTHWISE_CONV_2D", [x, wt, bt], [y], OPT["DEPTHWISE_CONV_2D"], options)
    return Case(name, g.build([x], [y]), int8_feeds(rng, [in_shape], [in_zp]))


def transpose_conv_case(name, in_shape, out_hw, out_c, kernel, stride=(1, 1), padding="SAME",
                        activation="NONE", in_zp=3, out_zp=-5, per_channel=True, bias=True, dtype="int8"):
    """TRANSPOSE_CONV: inputs output_shape (constant int32), weights OHWI, input[, bias]; any output
    size (TFLM drops the taps that land outside it). int16: 16x8 (zero points 0, int64 bias)."""
    rng = rng_for(name)
    n, h, w, c = in_shape
    out_shape = (n, *out_hw, out_c)
    g = Graph()
    options = b.T(f0=("int8", PAD[padding]), f1=("int32", stride[1]), f2=("int32", stride[0]),
                  f3=("int8", ACT[activation]))
    shape_t = g.const(np.array(out_shape, np.int32), "int32")
    if dtype == "float32":
        x = g.f32(in_shape)
        wt = g.const(rng.standard_normal((out_c, *kernel, c)).astype(F32), "float32")
        bt = g.const(rng.standard_normal(out_c).astype(F32), "float32") if bias else None
        y = g.f32(out_shape)
        feeds = float_feeds(rng, [in_shape])
    else:
        in_scale = F32(rng.uniform(0.01, 0.1))
        scales = weight_scales(rng, out_c, per_channel)
        out_scale = output_scale_for(in_scale, scales, 127 * 128 * kernel[0] * kernel[1] * c ** 0.5, "normal")
        weights = rng.integers(-127, 128, (out_c, *kernel, c)).astype(np.int8)
        wt = g.const(weights, "int8", scales, [0] * len(scales), qdim=0)
        if dtype == "int16":
            x = g.tensor(in_shape, "int16", in_scale, 0)
            bias_values = rng.integers(-2 ** 26, 2 ** 26, out_c).astype(np.int64)
            bt = g.const(bias_values, "int64", scales * in_scale) if bias else None
            y = g.tensor(out_shape, "int16", F32(out_scale * 2), 0)
            feeds = int16_feeds(rng, [in_shape])
        else:
            x = g.q8(in_shape, in_scale, in_zp)
            bt = g.const(int32_bias(rng, out_c, 20000), "int32", scales * in_scale) if bias else None
            y = g.q8(out_shape, out_scale, out_zp)
            feeds = int8_feeds(rng, [in_shape], [in_zp])
    inputs = [shape_t, wt, x] + ([bt] if bt is not None else [])
    g.op("TRANSPOSE_CONV", inputs, [y], OPT["TRANSPOSE_CONV"], options)
    return Case(name, g.build([x], [y]), feeds, tolerance=0.0 if dtype == "float32" else None)


def batch_matmul_case(name, lhs_shape, rhs_shape, adj_x=False, adj_y=False, constant=None, dtype="int8",
                      zero_points=(-7, 5, 3), out_scale_factor=1.0):
    """BATCH_MATMUL: constant None (both operands runtime inputs), 0 (a constant lhs) or 1 (a
    constant rhs). int16: zero points 0 (TFLM requires them). out_scale_factor widens the output
    range (operand zero points at the extremes make every product one-signed)."""
    rng = rng_for(name)
    le = (1,) * (5 - len(lhs_shape)) + tuple(lhs_shape)
    re_ = (1,) * (5 - len(rhs_shape)) + tuple(rhs_shape)
    rows, depth = (le[4], le[3]) if adj_x else (le[3], le[4])
    cols = re_[3] if adj_y else re_[4]
    batches = tuple(b if a == 1 else a for a, b in zip(le[:3], re_[:3]))
    out_shape = (batches + (rows, cols))[5 - max(len(lhs_shape), len(rhs_shape)):]
    g = Graph()
    shapes = (lhs_shape, rhs_shape)
    if dtype == "float32":
        values = [rng.standard_normal(s).astype(F32) for s in shapes]
        operands = [g.const(v, "float32") if constant == k else g.f32(s) for k, (v, s) in enumerate(zip(values, shapes))]
        y = g.f32(out_shape)
    else:
        zps = (0, 0, 0) if dtype == "int16" else zero_points
        scales = [F32(rng.uniform(0.01, 0.05)), F32(rng.uniform(0.01, 0.05))]
        span = (127 if dtype == "int8" else 32767) ** 2 * depth ** 0.5
        out_scale = F32(float(scales[0]) * float(scales[1]) * span * out_scale_factor
                        / (100 if dtype == "int8" else 25000))
        info = np.iinfo(dtype)
        operands = []
        for k, s in enumerate(shapes):
            if constant == k:
                operands.append(g.const(rng.integers(info.min, info.max + 1, s).astype(dtype), dtype, scales[k], zps[k]))
            else:
                operands.append(g.tensor(s, dtype, scales[k], zps[k]))
        y = g.tensor(out_shape, dtype, out_scale, zps[2])
    options = b.T(f0=("bool", adj_x), f1=("bool", adj_y))
    g.op("BATCH_MATMUL", operands, [y], OPT["BATCH_MATMUL"], options)
    inputs = [t for k, t in enumerate(operands) if constant != k]
    runtime_shapes = [s for k, s in enumerate(shapes) if constant != k]
    if dtype == "float32":
        feeds = float_feeds(rng, runtime_shapes)
    elif dtype == "int16":
        feeds = int16_feeds(rng, runtime_shapes)
    else:
        feeds = int8_feeds(rng, runtime_shapes, [z for k, z in enumerate(zero_points[:2]) if constant != k])
    return Case(name, g.build(inputs, [y]), feeds, tolerance=0.0 if dtype == "float32" else None)


def fully_connected_case(name, in_shape, units, activation="NONE", in_zp=3, out_zp=-5,
                         per_channel=False, bias=True, multiplier="normal", dtype="int8",
                         keep_num_dims=False, asymmetric_inputs=False):
    rng = rng_for(name)
    depth = in_shape[-1]
    batches = int(np.prod(in_shape)) // depth
    out_shape = (*in_shape[:-1], units) if keep_num_dims else (batches, units)
    g = Graph()
    options = b.T(f0=("int8", ACT[activation]), f2=("bool", int(keep_num_dims)),
                  f3=("bool", int(asymmetric_inputs)))
    if dtype == "hybrid":
        return hybrid_case(name, rng, g, "FULLY_CONNECTED", options, in_shape, (units, depth), 0, out_shape,
                           per_channel, bias)
    if dtype == "float32":
        x = g.f32(in_shape)
        wt = g.const(rng.standard_normal((units, depth)).astype(F32) * 0.2, "float32")
        bt = g.const(rng.standard_normal(units).astype(F32), "float32") if bias else -1
        y = g.f32(out_shape)
        g.op("FULLY_CONNECTED", [x, wt, bt], [y], OPT["FULLY_CONNECTED"], options)
        return Case(name, g.build([x], [y]), float_feeds(rng, [in_shape]), tolerance=1e-5)
    in_scale, scales, out_scale = pick_scales(rng, units, per_channel, multiplier,
                                              127 * 128 * depth ** 0.5)
    weights = small_weights_if(multiplier, rng, (units, depth))
    x = g.q8(in_shape, in_scale, in_zp)
    wt = g.const(weights, "int8", scales, [0] * len(scales))
    bt = g.const(pick_bias(rng, units, multiplier), "int32", scales * in_scale) if bias else -1
    y = g.q8(out_shape, out_scale, out_zp)
    g.op("FULLY_CONNECTED", [x, wt, bt], [y], OPT["FULLY_CONNECTED"], options)
    return Case(name, g.build([x], [y]), int8_feeds(rng, [in_shape], [in_zp]))


# ---- UNIDIRECTIONAL_SEQUENCE_LSTM ---------------------------------------------------------------

def lstm_case(name, batches, steps, depth, units, time_major=False, dtype="int8", in_zp=3, hidden_zp=-7,
              cell_scale_log2=-12, cell_clip=0.0, invokes=2):
    """One LSTM layer as TFLite writes it: 24 inputs (no peephole, projection or layer norm), the
    hidden and cell state as variable tensors (carried over `invokes` invokes per feed), cell gate TANH."""
    rng = rng_for(name)
    g = Graph()
    in_shape = (steps, batches, depth) if time_major else (batches, steps, depth)
    out_shape = (*in_shape[:2], units)
    options = b.T(f0=("int8", 4), f1=("float32", cell_clip), f3=("bool", int(time_major)))
    if dtype == "float32":
        x, y = g.f32(in_shape), g.f32(out_shape)
        weights = [g.const((rng.standard_normal((units, n)) * 0.5).astype(F32), "float32")
                   for n in [depth] * 4 + [units] * 4]
        biases = [g.const((rng.standard_normal(units) * 0.5).astype(F32), "float32") for _ in range(4)]
        hidden = g.tensor((batches, units), "float32", variable=True)
        cell = g.tensor((batches, units), "float32", variable=True)
        feeds = float_feeds(rng, [in_shape], spread=1.0)
    else:
        in_scale, hidden_scale = 0.03, 1.0 / 128
        scales = rng.uniform(0.004, 0.02, 8)
        weights = [g.const(rng.integers(-127, 128, (units, n)).astype(np.int8), "int8", [scales[k]], [0])
                   for k, n in enumerate([depth] * 4 + [units] * 4)]
        biases = [g.const(rng.integers(-3000, 3000, units).astype(np.int32), "int32", [in_scale * scales[k]], [0])
                  for k in range(4)]
        x, y = g.q8(in_shape, in_scale, in_zp), g.q8(out_shape, hidden_scale, hidden_zp)
        hidden = g.tensor((batches, units), "int8", hidden_scale, hidden_zp, variable=True)
        cell = g.tensor((batches, units), "int16", [2.0 ** cell_scale_log2], [0], variable=True)
        feeds = int8_feeds(rng, [in_shape], [in_zp])
    inputs = [x, *weights, -1, -1, -1, *biases, -1, -1, hidden, cell, -1, -1, -1, -1]
    g.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], OPT["UNIDIRECTIONAL_SEQUENCE_LSTM"], options)
    return Case(name, g.build([x], [y]), feeds, tolerance=1e-4 if dtype == "float32" else None,
                invokes=invokes)


# ---- SVDF (keeps state across invokes) ----------------------------------------------------------

def svdf_case(name, batch, input_size, units, rank, memory, activation="NONE", in_zp=3, out_zp=-5,
              time_dtype="int16", dtype="int8", invokes=3):
    """SVDF with its variable activation state, fed `invokes` times per feed."""
    rng = rng_for(name)
    filters = units * rank
    g = Graph()
    options = b.T(f0=("int32", rank), f1=("int8", ACT[activation]))
    state_shape = (batch, filters * memory)
    if dtype == "float32":
        x = g.f32((batch, input_size))
        wf = g.const(rng.standard_normal((filters, input_size)).astype(F32) * 0.3, "float32")
        wt = g.const(rng.standard_normal((filters, memory)).astype(F32) * 0.5, "float32")
        bias = g.const(rng.standard_normal(units).astype(F32), "float32")
        state = g.tensor(state_shape, "float32", variable=True)
        y = g.f32((batch, units))
        g.op("SVDF", [x, wf, wt, bias, state], [y], 6, options)
        return Case(name, g.build([x], [y]), float_feeds(rng, [(batch, input_size)]), tolerance=1e-5,
                    invokes=invokes)
    in_scale, wf_scale = F32(rng.uniform(0.02, 0.1)), F32(0.01)
    time_max = 127 if time_dtype == "int8" else 4096
    wt_scale = F32(1.0 / time_max)
    # The state's scale puts a typical feature sum (about 128 * 64 * sqrt(input_size) in input x
    # weight units) well inside the state's range; the output's a typical time sum in int8's.
    state_span = 60 if time_dtype == "int8" else 8000
    state_scale = F32(in_scale * wf_scale * 128 * 64 * input_size ** 0.5 / state_span)
    out_scale = F32(state_scale * wt_scale * time_max * state_span * (memory * rank) ** 0.5 / 20)
    x = g.q8((batch, input_size), in_scale, in_zp)
    wf = g.const(rng.integers(-127, 128, (filters, input_size)).astype(np.int8), "int8", wf_scale, 0)
    wt = g.const(rng.integers(-time_max, time_max + 1, (filters, memory)).astype(time_dtype), time_dtype,
                 wt_scale, 0)
    bias = g.const(int32_bias(rng, units, 20000), "int32", F32(state_scale * wt_scale), 0)
    state = g.tensor(state_shape, time_dtype, state_scale, 0, variable=True)
    y = g.q8((batch, units), out_scale, out_zp)
    g.op("SVDF", [x, wf, wt, bias, state], [y], 6, options)
    return Case(name, g.build([x], [y]), int8_feeds(rng, [(batch, input_size)], [in_zp]), invokes=invokes)


# ---- pools and MEAN ----------------------------------------------------------------------------

def pool_case(name, opcode, in_shape, filt, stride, padding, activation="NONE", zp=-3,
              scale=0.1, dtype="int8"):
    rng = rng_for(name)
    n, h, w, c = in_shape
    oh = out_size(padding, h, filt[0], stride[0], 1)
    ow = out_size(padding, w, filt[1], stride[1], 1)
    g = Graph()
    options = b.T(f0=("int8", PAD[padding]), f1=("int32", stride[1]), f2=("int32", stride[0]),
                  f3=("int32", filt[1]), f4=("int32", filt[0]), f5=("int8", ACT[activation]))
    (x,), (y,), feeds = g.activations(rng, dtype, [in_shape], [(n, oh, ow, c)], [(scale, zp)], (scale, zp))
    g.op(opcode, [x], [y], OPT["POOL"], options)
    return Case(name, g.build([x], [y]), feeds, tolerance=1e-6 if dtype == "float32" else None)


def mean_case(name, in_shape, in_scale, in_zp, out_scale, out_zp, keep_dims=True, axes=(1, 2),
              dtype="int8"):
    rng = rng_for(name)
    n, h, w, c = in_shape
    out_shape = (n, 1, 1, c) if keep_dims else (n, c)
    g = Graph()
    (x,), (y,), feeds = g.activations(rng, dtype, [in_shape], [out_shape], [(in_scale, in_zp)], (out_scale, out_zp))
    axis = g.const(np.array(axes, np.int32), "int32")
    g.op("MEAN", [x, axis], [y], OPT["MEAN"], b.T(f0=("bool", int(keep_dims))))
    return Case(name, g.build([x], [y]), feeds, tolerance=1e-5 if dtype == "float32" else None)


def reduce_case(name, opcode, in_shape, axes, keep_dims, quants=None, dtype="int8"):
    """SUM, REDUCE_MAX or MEAN over `axes` (may be negative or repeated); quants ((si, zi), (so, zo))."""
    rng = rng_for(name)
    rank = len(in_shape)
    resolved = {a % rank for a in axes}
    out_shape = tuple(1 if a in resolved else d for a, d in enumerate(in_shape) if keep_dims or a not in resolved)
    g = Graph()
    if dtype == "float32":
        x, y = g.f32(in_shape), g.f32(out_shape)
        feeds = float_feeds(rng, [in_shape])
    else:
        (si, zi), (so, zo) = quants
        x, y = g.tensor(in_shape, dtype, si, zi), g.tensor(out_shape, dtype, so, zo)
        feeds = int8_feeds(rng, [in_shape], [zi]) if dtype == "int8" else int16_feeds(rng, [in_shape])
    axis = g.const(np.array(axes, np.int32), "int32")
    g.op(opcode, [x, axis], [y], OPT["MEAN"], b.T(f0=("bool", int(keep_dims))))
    float_tolerance = 1e-6 if opcode == "MEAN" else 0.0    # the reference's float MEAN is np.mean
    return Case(name, g.build([x], [y]), feeds, tolerance=float_tolerance if dtype == "float32" else None)


# ---- element-wise ------------------------------------------------------------------------------

def arithmetic_case(name, opcode, shape1, shape2, out_shape, quants=None, activation="NONE",
                    dtype="int8"):
    """quants: ((s1, z1), (s2, z2), (so, zo))."""
    rng = rng_for(name)
    g = Graph()
    quants = quants or ((None, None),) * 3
    (x1, x2), (y,), feeds = g.activations(rng, dtype, [shape1, shape2], [out_shape], quants[:2], quants[2])
    g.op(opcode, [x1, x2], [y], OPT[opcode], b.T(f0=("int8", ACT[activation])))
    return Case(name, g.build([x1, x2], [y]), feeds, tolerance=1e-6 if dtype == "float32" else None)


def int16_feeds(rng, shapes, random_count=3):
    """all -32768, all 32767, zeros (the zero point), mixed extremes, small and random values."""
    feeds = [[np.full(s, -32768, np.int16) for s in shapes], [np.full(s, 32767, np.int16) for s in shapes],
             [np.zeros(s, np.int16) for s in shapes]]
    if len(shapes) > 1:
        feeds.append([np.full(s, -32768 if k % 2 else 32767, np.int16) for k, s in enumerate(shapes)])
    feeds.append([rng.integers(-40, 41, s).astype(np.int16) for s in shapes])
    for _ in range(random_count):
        feeds.append([rng.integers(-32768, 32768, s).astype(np.int16) for s in shapes])
    return feeds


def binary_case(name, opcode, shape1, shape2, out_shape, quants=None, activation=None, dtype="int8",
                constant=None, constant_values=None):
    """An element-wise op of two operands (MUL, DIV, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM, PRELU).
    quants: ((s1, z1), (s2, z2), (so, zo)) for int8/int16; constant: None, 0 or 1, the operand
    that is a constant tensor (random values, or constant_values) instead of a graph input.
    PRELU with int16 inputs takes an int8 alpha."""
    rng = rng_for(name)
    g = Graph()
    shapes = [shape1, shape2]
    dtypes = [dtype, "int8" if opcode == "PRELU" and dtype == "int16" else dtype]
    tensors, runtime = [], []
    for k in range(2):
        q = (None, None) if dtype == "float32" else quants[k]
        if k == constant:
            values = constant_values
            if values is None:
                values = (rng.standard_normal(shapes[k]).astype(F32) if dtypes[k] == "float32" else
                          rng.integers(-128 if dtypes[k] == "int8" else -32768,
                                       128 if dtypes[k] == "int8" else 32768, shapes[k]))
            tensors.append(g.const(np.asarray(values).astype(dtypes[k]), dtypes[k], *q))
        else:
            tensors.append(g.tensor(shapes[k], dtypes[k], *q))
            runtime.append(k)
    q = (None, None) if dtype == "float32" else quants[2]
    y = g.tensor(out_shape, dtype, *q)
    options = b.T(f0=("int8", ACT[activation])) if activation else (b.T() if OPT[opcode] else None)
    g.op(opcode, tensors, [y], OPT[opcode], options)
    runtime_shapes = [shapes[k] for k in runtime]
    if dtype == "float32":
        feeds, tolerance = float_feeds(rng, runtime_shapes), 1e-6
    elif dtype == "int16":
        feeds, tolerance = int16_feeds(rng, runtime_shapes), None
    else:
        feeds, tolerance = int8_feeds(rng, runtime_shapes, [quants[k][1] for k in runtime]), None
    return Case(name, g.build([tensors[k] for k in runtime], [y]), feeds, tolerance=tolerance)


def unary16_case(name, opcode, quants=None, shape=(2, 40)):
    """An int16 element-wise op of one input; quants None: tensors without quantization."""
    rng = rng_for(name)
    g = Graph()
    (si, zi), (so, zo) = quants if quants else ((None, None), (None, None))
    x, y = g.tensor(shape, "int16", si, zi), g.tensor(shape, "int16", so, zo)
    g.op(opcode, [x], [y], OPT[opcode], None)
    return Case(name, g.build([x], [y]), int16_feeds(rng, [shape]))


# ---- activations -------------------------------------------------------------------------------

def every_int8_value(shape_elements=256):
    return np.arange(-128, 128).astype(np.int8).reshape(1, shape_elements)


def unary_case(name, opcode, in_scale, in_zp, out_scale=None, out_zp=None, dtype="int8",
               options_type=0, options=None, shape=(1, 256)):
    rng = rng_for(name)
    g = Graph()
    if dtype == "float32":
        x, y = g.f32(shape), g.f32(shape)
        feeds = float_feeds(rng, [shape], spread=2.0)
        tolerance = 1e-5
    else:
        x, y = g.q8(shape, in_scale, in_zp), g.q8(shape, out_scale, out_zp)
        feeds = int8_feeds(rng, [shape], [in_zp])
        if int(np.prod(shape)) == 256:
            feeds.append([every_int8_value().reshape(shape)])
        tolerance = None
    g.op(opcode, [x], [y], options_type, options)
    return Case(name, g.build([x], [y]), feeds, tolerance=tolerance)


def softmax_case(name, shape, in_scale, in_zp, beta, dtype="int8"):
    rng = rng_for(name)
    g = Graph()
    (x,), (y,), feeds = g.activations(rng, dtype, [shape], [shape], [(in_scale, in_zp)], (1 / 256, -128))
    tolerance = 1e-5 if dtype == "float32" else None
    if dtype != "float32":
        # One large value among small ones, and a row of two values (a tie).
        peaked = np.full(shape, -100, np.int8)
        peaked.reshape(-1, shape[-1])[:, 0] = 120
        feeds.append([peaked])
        tie = np.full(shape, -128, np.int8)
        tie.reshape(-1, shape[-1])[:, :2] = 127
        feeds.append([tie])
    g.op("SOFTMAX", [x], [y], OPT["SOFTMAX"], b.T(f0=("float32", beta)))
    return Case(name, g.build([x], [y]), feeds, tolerance=tolerance)


# ---- QUANTIZE / DEQUANTIZE ---------------------------------------------------------------------

def quantize_float_case(name, scale, zp, count=240):
    """float -> int8, with values on and next to the rounding boundaries (k + 1/2) * scale."""
    rng = rng_for(name)
    g = Graph()
    x, y = g.f32((1, count)), g.q8((1, count), scale, zp)
    g.op("QUANTIZE", [x], [y], OPT["QUANTIZE"], b.T())
    s = F32(scale)
    k = rng.integers(-140, 140, count).astype(np.float64)
    halves = ((k + 0.5) * np.float64(s)).astype(F32)
    feeds = [[halves.reshape(1, count)],
             [np.nextafter(halves, F32(np.inf)).reshape(1, count)],
             [np.nextafter(halves, F32(-np.inf)).reshape(1, count)],
             [(k * np.float64(s)).astype(F32).reshape(1, count)],
             [rng.uniform(-300 * s, 300 * s, (1, count)).astype(F32)],
             [np.zeros((1, count), F32)]]
    return Case(name, g.build([x], [y]), feeds)


def requantize_case(name, in_scale, in_zp, out_scale, out_zp):
    rng = rng_for(name)
    g = Graph()
    x, y = g.q8((1, 256), in_scale, in_zp), g.q8((1, 256), out_scale, out_zp)
    g.op("QUANTIZE", [x], [y], OPT["QUANTIZE"], b.T())
    feeds = int8_feeds(rng, [(1, 256)], [in_zp], random_count=1) + [[every_int8_value()]]
    return Case(name, g.build([x], [y]), feeds)


def dequantize_case(name, scale, zp):
    rng = rng_for(name)
    g = Graph()
    x, y = g.q8((1, 256), scale, zp), g.f32((1, 256))
    g.op("DEQUANTIZE", [x], [y], OPT["DEQUANTIZE"], b.T())
    feeds = int8_feeds(rng, [(1, 256)], [zp], random_count=1) + [[every_int8_value()]]
    return Case(name, g.build([x], [y]), feeds, tolerance=0.0)


# ---- shape ops ---------------------------------------------------------------------------------

def concatenation_case(name, shapes, axis, dtype="int8", zp=-7, scale=0.05, input_quants=None):
    """input_quants: one (scale, zero point) per input (default: the output's)."""
    rng = rng_for(name)
    input_quants = input_quants or [(scale, zp)] * len(shapes)
    rank = len(shapes[0])
    a = axis % rank
    out_shape = list(shapes[0])
    out_shape[a] = sum(s[a] for s in shapes)
    g = Graph()
    xs, (y,), feeds = g.activations(rng, dtype, shapes, [out_shape], input_quants, (scale, zp))
    g.op("CONCATENATION", xs, [y], OPT["CONCATENATION"], b.T(f0=("int32", axis)))
    return Case(name, g.build(xs, [y]), feeds, tolerance=0.0 if dtype == "float32" else None)


def pad_case(name, in_shape, pads, dtype="int8", zp=-7, value=None, opcode="PAD"):
    rng = rng_for(name)
    out_shape = [d + p0 + p1 for d, (p0, p1) in zip(in_shape, pads)]
    g = Graph()
    (x,), (y,), feeds = g.activations(rng, dtype, [in_shape], [out_shape], [(0.05, zp)], (0.05, zp))
    inputs = [x, g.const(np.array(pads, np.int32), "int32")]
    if opcode == "PADV2":
        if dtype == "float32":
            inputs.append(g.const(np.array([value], F32), "float32"))
        else:
            inputs.append(g.const(np.array([value], np.int8), "int8", 0.05, [zp]))
    g.op(opcode, inputs, [y], OPT[opcode], b.T())
    return Case(name, g.build([x], [y]), feeds, tolerance=0.0 if dtype == "float32" else None)


def strided_slice_case(name, in_shape, out_shape, begin, end, strides, dtype="int8", zp=-7,
                       begin_mask=0, end_mask=0, shrink_axis_mask=0, offset=False):
    rng = rng_for(name)
    g = Graph()
    (x,), (y,), feeds = g.activations(rng, dtype, [in_shape], [out_shape], [(0.05, zp)], (0.05, zp))
    inputs = [x] + [g.const(np.array(v, np.int32), "int32") for v in (begin, end, strides)]
    g.op("STRIDED_SLICE", inputs, [y], OPT["STRIDED_SLICE"],
         b.T(f0=("int32", begin_mask), f1=("int32", end_mask), f4=("int32", shrink_axis_mask),
             f5=("bool", int(offset))))
    return Case(name, g.build([x], [y]), feeds, tolerance=0.0 if dtype == "float32" else None)


def reshape_case(name, in_shape, out_shape, dtype="int8", zp=3, opcode="RESHAPE", axes=None):
    """RESHAPE, or SQUEEZE (axes: squeeze_dims) / EXPAND_DIMS (axes: the axis)."""
    rng = rng_for(name)
    g = Graph()
    (x,), (y,), feeds = g.activations(rng, dtype, [in_shape], [out_shape], [(0.05, zp)], (0.05, zp))
    if opcode == "SQUEEZE":
        g.op("SQUEEZE", [x], [y], 30, b.T(f0=("vec_int32", list(axes))) if axes else b.T())
    elif opcode == "EXPAND_DIMS":
        g.op("EXPAND_DIMS", [x, g.const(np.array([axes], np.int32), "int32")], [y], 52, b.T())
    else:
        shape = g.const(np.array(out_shape, np.int32), "int32")
        g.op("RESHAPE", [x, shape], [y], OPT["RESHAPE"], b.T())
    return Case(name, g.build([x], [y]), feeds, tolerance=0.0 if dtype == "float32" else None)


def transpose_case(name, in_shape, perm, dtype="int8", zp=-7):
    rng = rng_for(name)
    out_shape = [in_shape[p] for p in perm]
    g = Graph()
    (x,), (y,), feeds = g.activations(rng, dtype, [in_shape], [out_shape], [(0.05, zp)], (0.05, zp))
    g.op("TRANSPOSE", [x, g.const(np.array(perm, np.int32), "int32")], [y], 26, b.T())
    return Case(name, g.build([x], [y]), feeds, tolerance=0.0 if dtype == "float32" else None)


def pack_case(name, in_shape, count, axis, dtype="int8", zp=-7):
    rng = rng_for(name)
    rank = len(in_shape) + 1
    a = axis % rank
    out_shape = list(in_shape[:a]) + [count] + list(in_shape[a:])
    g = Graph()
    xs, (y,), feeds = g.activations(rng, dtype, [in_shape] * count, [out_shape], [(0.05, zp)] * count, (0.05, zp))
    g.op("PACK", xs, [y], 59, b.T(f0=("int32", count), f1=("int32", axis)))
    return Case(name, g.build(xs, [y]), feeds, tolerance=0.0 if dtype == "float32" else None)


def resize_nearest_case(name, in_shape, size, align_corners=False, half_pixel_centers=False,
                        dtype="int8", zp=-7, opcode="RESIZE_NEAREST_NEIGHBOR"):
    """RESIZE_NEAREST_NEIGHBOR, or RESIZE_BILINEAR with opcode= (the same inputs and flags)."""
    rng = rng_for(name)
    out_shape = [in_shape[0], size[0], size[1], in_shape[3]]
    g = Graph()
    (x,), (y,), feeds = g.activations(rng, dtype, [in_shape], [out_shape], [(0.05, zp)], (0.05, zp))
    flags = (("bool", int(align_corners)), ("bool", int(half_pixel_centers)))
    options = (b.T(f0=flags[0], f1=flags[1]) if opcode == "RESIZE_NEAREST_NEIGHBOR"
               else b.T(f2=flags[0], f3=flags[1]))       # ResizeBilinearOptions: fields 2 and 3
    g.op(opcode, [x, g.const(np.array(size, np.int32), "int32")], [y],
         74 if opcode == "RESIZE_NEAREST_NEIGHBOR" else 15, options)
    return Case(name, g.build([x], [y]), feeds, tolerance=0.0 if dtype == "float32" else None)


def split_case(name, opcode, in_shape, axis, sizes, dtype="int8", zp=-7, size_splits=None):
    """SPLIT (equal sizes), SPLIT_V (size_splits as written, e.g. with a -1) or UNPACK (sizes 1,
    the axis dropped)."""
    rng = rng_for(name)
    rank = len(in_shape)
    a = axis % rank
    shapes = []
    for size in sizes:
        shape = list(in_shape)
        shape[a] = size
        if opcode == "UNPACK":
            del shape[a]
        shapes.append(shape)
    g = Graph()
    (x,), ys, feeds = g.activations(rng, dtype, [in_shape], shapes, [(0.05, zp)], (0.05, zp))
    axis_t = g.const(np.array([axis], np.int32), "int32")
    if opcode == "SPLIT":
        g.op("SPLIT", [axis_t, x], ys, 35, b.T(f0=("int32", len(sizes))))
    elif opcode == "SPLIT_V":
        sizes_t = g.const(np.array(size_splits or sizes, np.int32), "int32")
        g.op("SPLIT_V", [x, sizes_t, axis_t], ys, 79, b.T(f0=("int32", len(sizes))))
    else:
        g.op("UNPACK", [x], ys, 64, b.T(f0=("int32", len(sizes)), f1=("int32", axis)))
    return Case(name, g.build([x], ys), feeds, tolerance=0.0 if dtype == "float32" else None)


# ---- chains ------------------------------------------------------------------------------------

def chain_shape_slice_pack_reshape(name):
    """x [1, 2, 3, 4] -> SHAPE -> STRIDED_SLICE (the batch) -> PACK with 24 -> RESHAPE(x, [1, 24]):
    the shape arithmetic a detector computes from a shape; all of it is known at generation time."""
    rng = rng_for(name)
    g = Graph()
    x = g.q8((1, 2, 3, 4), 0.05, 3)
    shape = g.tensor((4,), "int32")
    g.op("SHAPE", [x], [shape], 55, b.T(f0=("int8", 2)))
    batch = g.tensor((), "int32")
    consts = [g.const(np.array([v], np.int32), "int32") for v in (0, 1, 1)]
    g.op("STRIDED_SLICE", [shape] + consts, [batch], OPT["STRIDED_SLICE"], b.T(f4=("int32", 1)))
    packed = g.tensor((2,), "int32")
    g.op("PACK", [batch, g.const(np.array(24, np.int32), "int32")], [packed], 59,
         b.T(f0=("int32", 2), f1=("int32", 0)))
    y = g.q8((1, 24), 0.05, 3)
    g.op("RESHAPE", [x, packed], [y], OPT["RESHAPE"], b.T())
    return Case(name, g.build([x], [y]), int8_feeds(rng, [(1, 2, 3, 4)], [3]))


def chain_conv_pool_fc_softmax(name):
    """CONV_2D (RELU6, stride 2) -> MAX_POOL_2D -> FULLY_CONNECTED -> SOFTMAX (beta 0.7)."""
    rng = rng_for(name)
    g = Graph()
    x = g.q8((1, 9, 9, 3), 0.04, -128)
    ws = weight_scales(rng, 5, True)
    w = g.const(rng.integers(-127, 128, (5, 3, 3, 3)).astype(np.int8), "int8", ws, [0] * 5)
    bias = g.const(int32_bias(rng, 5, 3000), "int32", ws * F32(0.04))
    c = g.q8((1, 5, 5, 5), 0.03, -128)
    g.op("CONV_2D", [x, w, bias], [c], OPT["CONV_2D"],
         b.T(f0=("int8", PAD["SAME"]), f1=("int32", 2), f2=("int32", 2), f3=("int8", ACT["RELU6"])))
    p = g.q8((1, 2, 2, 5), 0.03, -128)
    g.op("MAX_POOL_2D", [c], [p], OPT["POOL"],
         b.T(f0=("int8", PAD["VALID"]), f1=("int32", 2), f2=("int32", 2), f3=("int32", 2), f4=("int32", 2)))
    fw = g.const(rng.integers(-127, 128, (7, 20)).astype(np.int8), "int8", [0.01], [0])
    fb = g.const(int32_bias(rng, 7, 500), "int32", [0.0003])
    f = g.q8((1, 7), 0.08, 4)
    g.op("FULLY_CONNECTED", [p, fw, fb], [f], OPT["FULLY_CONNECTED"], b.T(f0=("int8", 0)))
    s = g.q8((1, 7), 1 / 256, -128)
    g.op("SOFTMAX", [f], [s], OPT["SOFTMAX"], b.T(f0=("float32", 0.7)))
    return Case(name, g.build([x], [s]), int8_feeds(rng, [(1, 9, 9, 3)], [-128]))


def chain_quantize_depthwise_dequantize(name):
    """QUANTIZE (float -> int8) -> DEPTHWISE_CONV_2D (multiplier 2, dilation 2) -> DEQUANTIZE."""
    rng = rng_for(name)
    g = Graph()
    x = g.f32((1, 6, 6, 2))
    q = g.q8((1, 6, 6, 2), 0.02, 11)
    g.op("QUANTIZE", [x], [q], OPT["QUANTIZE"], b.T())
    ws = weight_scales(rng, 4, True)
    w = g.const(rng.integers(-127, 128, (1, 3, 3, 4)).astype(np.int8), "int8", ws, [0] * 4, qdim=3)
    bias = g.const(int32_bias(rng, 4, 3000), "int32", ws * F32(0.02))
    d = g.q8((1, 6, 6, 4), 0.05, -20)
    g.op("DEPTHWISE_CONV_2D", [q, w, bias], [d], OPT["DEPTHWISE_CONV_2D"],
         b.T(f0=("int8", PAD["SAME"]), f1=("int32", 1), f2=("int32", 1), f3=("int32", 2),
             f4=("int8", ACT["RELU"]), f5=("int32", 2), f6=("int32", 2)))
    y = g.f32((1, 6, 6, 4))
    g.op("DEQUANTIZE", [d], [y], OPT["DEQUANTIZE"], b.T())
    feeds = [[rng.uniform(-2.5, 2.5, (1, 6, 6, 2)).astype(F32)] for _ in range(3)]
    feeds.append([np.full((1, 6, 6, 2), 100.0, F32)])
    return Case(name, g.build([x], [y]), feeds, tolerance=0.0)


def chain_residual_add_concat(name):
    """Two convolutions of one input, ADD (residual, RELU) and CONCATENATION of the results,
    then MEAN: a graph with a branch and two merges."""
    rng = rng_for(name)
    g = Graph()
    x = g.q8((1, 5, 5, 4), 0.05, -10)
    branches = []
    for k in range(2):
        ws = weight_scales(rng, 4, True)
        w = g.const(rng.integers(-127, 128, (4, 3, 3, 4)).astype(np.int8), "int8", ws, [0] * 4)
        bias = g.const(int32_bias(rng, 4, 4000), "int32", ws * F32(0.05))
        out = g.q8((1, 5, 5, 4), 0.06 + 0.02 * k, 3 - 5 * k)
        g.op("CONV_2D", [x, w, bias], [out], OPT["CONV_2D"],
             b.T(f0=("int8", PAD["SAME"]), f1=("int32", 1), f2=("int32", 1), f3=("int8", 0)))
        branches.append(out)
    added = g.q8((1, 5, 5, 4), 0.09, -2)
    g.op("ADD", [branches[0], x], [added], OPT["ADD"], b.T(f0=("int8", ACT["RELU"])))
    joined_in = g.q8((1, 5, 5, 4), 0.09, -2)
    g.op("QUANTIZE", [branches[1]], [joined_in], OPT["QUANTIZE"], b.T())
    joined = g.q8((1, 5, 5, 8), 0.09, -2)
    g.op("CONCATENATION", [added, joined_in], [joined], OPT["CONCATENATION"], b.T(f0=("int32", 3)))
    m = g.q8((1, 1, 1, 8), 0.04, 1)
    axis = g.const(np.array([1, 2], np.int32), "int32")
    g.op("MEAN", [joined, axis], [m], OPT["MEAN"], b.T(f0=("bool", 1)))
    return Case(name, g.build([x], [m]), int8_feeds(rng, [(1, 5, 5, 4)], [-10]))


def chain_residual_blocks(name):
    """Two residual blocks on 8 channels (int8): a stem CONV_2D; block 1: CONV_2D (RELU) -> CONV_2D,
    ADD with the stem (RELU); block 2: a 1x1 CONV_2D of block 1's sum, ADD with that sum; then MEAN
    over H and W, RESHAPE to [1, 8] and FULLY_CONNECTED to 4. The stem, block 1's second conv, both
    sums, block 2's conv, the mean and the reshape are one channel space (prune.prune_neurons
    prunes it as a group); block 1's first conv is a plain chain to its second."""
    rng = rng_for(name)
    g = Graph()
    x = g.q8((1, 6, 6, 3), 0.04, -20)
    same = b.T(f0=("int8", PAD["SAME"]), f1=("int32", 1), f2=("int32", 1), f3=("int8", 0))
    same_relu = b.T(f0=("int8", PAD["SAME"]), f1=("int32", 1), f2=("int32", 1), f3=("int8", ACT["RELU"]))

    def conv(source, in_scale, in_c, kernel, out_scale, out_zp, options):
        ws = weight_scales(rng, 8, True)
        w = g.const(rng.integers(-127, 128, (8, kernel, kernel, in_c)).astype(np.int8), "int8", ws, [0] * 8)
        bias = g.const(int32_bias(rng, 8, 3000), "int32", ws * F32(in_scale))
        out = g.q8((1, 6, 6, 8), out_scale, out_zp)
        g.op("CONV_2D", [source, w, bias], [out], OPT["CONV_2D"], options)
        return out

    stem = conv(x, 0.04, 3, 3, 0.08, -30, same_relu)
    inner = conv(stem, 0.08, 8, 3, 0.1, -40, same_relu)
    second = conv(inner, 0.1, 8, 3, 0.12, 5, same)
    sum1 = g.q8((1, 6, 6, 8), 0.13, -60)
    g.op("ADD", [second, stem], [sum1], OPT["ADD"], b.T(f0=("int8", ACT["RELU"])))
    pointwise = conv(sum1, 0.13, 8, 1, 0.11, 2, same)
    sum2 = g.q8((1, 6, 6, 8), 0.15, -10)
    g.op("ADD", [pointwise, sum1], [sum2], OPT["ADD"], b.T(f0=("int8", 0)))
    mean = g.q8((1, 1, 1, 8), 0.07, -50)
    g.op("MEAN", [sum2, g.const(np.array([1, 2], np.int32), "int32")], [mean], OPT["MEAN"], b.T(f0=("bool", 1)))
    flat = g.q8((1, 8), 0.07, -50)
    g.op("RESHAPE", [mean, g.const(np.array([1, 8], np.int32), "int32")], [flat], OPT["RESHAPE"], b.T())
    ws = weight_scales(rng, 4, True)
    w = g.const(rng.integers(-127, 128, (4, 8)).astype(np.int8), "int8", ws, [0] * 4)
    logits = g.q8((1, 4), 0.1, 3)
    g.op("FULLY_CONNECTED", [flat, w, g.const(int32_bias(rng, 4, 2000), "int32", ws * F32(0.07))], [logits],
         OPT["FULLY_CONNECTED"], b.T(f0=("int8", 0)))
    return Case(name, g.build([x], [logits]), int8_feeds(rng, [(1, 6, 6, 3)], [-20]))


# ---- indexing ops (GATHER, SPACE_TO_DEPTH, DEPTH_TO_SPACE, MIRROR_PAD, CAST, ARG_MAX, ARG_MIN) ----

def _typed_feeds(rng, shape, dtype, zp):
    if dtype == "int8":
        return int8_feeds(rng, [shape], [zp])
    if dtype == "int16":
        return [[np.full(shape, v, np.int16)] for v in (0, -32768, 32767)] + [
            [rng.integers(-32768, 32768, size=shape).astype(np.int16)]]
    if dtype == "int32":
        info = np.iinfo(np.int32)
        return [[np.full(shape, v, np.int32)] for v in (0, info.min, info.max)] + [
            [rng.integers(info.min, info.max, size=shape, endpoint=True).astype(np.int32)],
            [rng.integers(-300, 301, size=shape).astype(np.int32)]]
    return float_feeds(rng, [shape])


def indexing_case(name, opcode, in_shape, out_shape, options_type=0, options=None, constants=(),
                  dtype="int8", out_dtype=None, zp=-7, out_quant=None):
    """One op of one activation input and constant operands (each (array, dtype)); int8
    tensors are quantized (scale 0.05, zero point zp; the output as out_quant or the same)."""
    rng = rng_for(name)
    out_dtype = out_dtype or dtype
    g = Graph()
    quant = lambda t: (0.05, zp) if t == "int8" else (None, None)
    x = g.tensor(in_shape, dtype, *quant(dtype))
    y = g.tensor(out_shape, out_dtype, *(out_quant or quant(out_dtype)))
    operands = [g.const(np.asarray(a), t) for a, t in constants]
    g.op(opcode, [x] + operands, [y], options_type, options)
    exact = "float32" in (dtype, out_dtype)
    return Case(name, g.build([x], [y]), _typed_feeds(rng, in_shape, dtype, zp),
                tolerance=0.0 if exact else None)


def gather_case(name, in_shape, indices, axis=0, batch_dims=0, dtype="int8", zp=-7):
    indices = np.asarray(indices, np.int32)
    a = axis % len(in_shape)
    bd = batch_dims % indices.ndim if indices.ndim else 0
    out_shape = list(in_shape[:a]) + list(indices.shape[bd:]) + list(in_shape[a + 1:])
    return indexing_case(name, "GATHER", in_shape, out_shape, 23,
                         b.T(f0=("int32", axis), f1=("int32", batch_dims)), [(indices, "int32")],
                         dtype=dtype, zp=zp)


def space_depth_case(name, opcode, in_shape, block, dtype="int8", zp=-7):
    n, h, w, c = in_shape
    out_shape = ((n, h // block, w // block, c * block * block) if opcode == "SPACE_TO_DEPTH"
                 else (n, h * block, w * block, c // (block * block)))
    code = 19 if opcode == "SPACE_TO_DEPTH" else 94
    return indexing_case(name, opcode, in_shape, out_shape, code, b.T(f0=("int32", block)),
                         dtype=dtype, zp=zp)


def mirror_pad_case(name, in_shape, pads, symmetric, dtype="int8", zp=-7):
    out_shape = [d + p[0] + p[1] for d, p in zip(in_shape, pads)]
    return indexing_case(name, "MIRROR_PAD", in_shape, out_shape, 77,
                         b.T(f0=("int8", 1 if symmetric else 0)), [(np.array(pads, np.int32), "int32")],
                         dtype=dtype, zp=zp)


def cast_case(name, shape, dtype, out_dtype, zp=-7):
    return indexing_case(name, "CAST", shape, shape, 37, None, dtype=dtype, out_dtype=out_dtype, zp=zp)


def arg_min_max_case(name, opcode, in_shape, axis, out_dtype="int32", dtype="int8", zp=-7,
                     axis_dtype="int32"):
    a = axis % len(in_shape)
    out_shape = list(in_shape[:a]) + list(in_shape[a + 1:])
    code = {"int32": 2, "int64": 4}[out_dtype]
    return indexing_case(name, opcode, in_shape, out_shape, 40 if opcode == "ARG_MAX" else 57,
                         b.T(f0=("int8", code)),
                         [(np.array([axis], np.int32 if axis_dtype == "int32" else np.int64), axis_dtype)],
                         dtype=dtype, out_dtype=out_dtype, zp=zp)


def space_batch_case(name, opcode, in_shape, block, amounts, dtype="int8", zp=-7, out_shape=None):
    """SPACE_TO_BATCH_ND (amounts = paddings) or BATCH_TO_SPACE_ND (amounts = crops) of a 3-D or
    4-D input; block and amounts per spatial axis ([[before, after], ...])."""
    spatial = len(in_shape) - 2
    if out_shape is None:
        n, c = in_shape[0], in_shape[-1]
        count = int(np.prod(block))
        if opcode == "SPACE_TO_BATCH_ND":
            sizes = [(in_shape[1 + i] + amounts[i][0] + amounts[i][1]) // block[i] for i in range(spatial)]
            out_shape = [n * count] + sizes + [c]
        else:
            sizes = [in_shape[1 + i] * block[i] - amounts[i][0] - amounts[i][1] for i in range(spatial)]
            out_shape = [n // count] + sizes + [c]
    code = 25 if opcode == "SPACE_TO_BATCH_ND" else 24
    return indexing_case(name, opcode, in_shape, out_shape, code, b.T(),
                         [(np.array(block, np.int32), "int32"),
                          (np.array(amounts, np.int32).reshape(spatial, 2), "int32")],
                         dtype=dtype, zp=zp)


def normalization_case(name, opcode, shape, in_scale=0.05, in_zp=-7, out_quant=None, dtype="int8",
                       options=None):
    """L2_NORMALIZATION or LOG_SOFTMAX of one input; int8 output quantization out_quant (default:
    the one TFLM fixes)."""
    rng = rng_for(name)
    g = Graph()
    if dtype == "float32":
        x, y = g.f32(shape), g.f32(shape)
    else:
        fixed = (1.0 / 128, 0) if opcode == "L2_NORMALIZATION" else (16.0 / 256, 127)
        x, y = g.tensor(shape, dtype, in_scale, in_zp), g.tensor(shape, dtype, *(out_quant or fixed))
    code = 12 if opcode == "L2_NORMALIZATION" else 36
    g.op(opcode, [x], [y], code, options if options is not None else b.T())
    feeds = _typed_feeds(rng, shape, dtype, in_zp)
    if dtype == "int8":
        one_off = np.full(shape, in_zp, np.int8)      # one value off the zero point per row
        one_off.reshape(-1, shape[-1])[:, -1] = np.clip(in_zp + 1, -128, 127)
        feeds.append([one_off])
    return Case(name, g.build([x], [y]), feeds, tolerance=0.0 if dtype == "float32" else None)
