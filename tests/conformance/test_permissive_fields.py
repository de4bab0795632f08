"""As permissive as TFLM, as strict as safety needs (issue 12, item 3): quantization fields that
TFLM never reads do not make tinynet refuse a model. Each relaxed field is one test: a small model
is built twice, once clean and once with the odd field, both are converted and compiled into one
host program, and the odd model's output must be the clean model's, byte for byte (and the
reference interpreter's). Fields that would make the arithmetic wrong are still refused with the
one-line error.

What TFLM reads, from its source: the conv kernels take the bias scale to be input x filter scale
and never read the bias tensor's quantization (PopulateConvolutionQuantizationParams reads it for
uint8 only); ConvPerChannel / DepthwiseConvPerChannel never read the filter zero point; RESHAPE
reads only the shape tensor's values; the allocator gives every channel zero_point[0] when a
tensor has fewer zero points than scales (InitializeTfLiteTensorFromFlatbuffer).
"""


import numpy as np
import pytest

from synthetic_models import OPT, Graph
from many_networks import HostProgram
from tinynet_py import tflite_builder as b
from tinynet_py import emit
from tinynet_py.errors import ModelError
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import parse_model

RNG = np.random.default_rng(31415)
IN_SHAPE, OUT_C = (1, 5, 5, 3), 4
WEIGHTS = RNG.integers(-127, 128, (OUT_C, 3, 3, 3)).astype(np.int8)
SCALES = np.array([0.02, 0.013, 0.031, 0.007], np.float32)
BIAS = RNG.integers(-3000, 3000, OUT_C).astype(np.int32)
IN_SCALE, OUT_SCALE = 0.05, 0.4
CONV_OPTIONS = b.T(f0=("int8", 0), f1=("int32", 1), f2=("int32", 1), f3=("int8", 0),
                   f4=("int32", 1), f5=("int32", 1))


def conv_model(bias_quant="clean", weights_zero_point=None, opcode="CONV_2D"):
    """CONV_2D 3x3 SAME, int8, per-channel weights. bias_quant: 'clean' (scale in x filter
    scales), None (no quantization), or a dict of tensor() keyword arguments."""
    g = Graph()
    x = g.q8(IN_SHAPE, IN_SCALE, -3)
    if opcode == "CONV_2D":
        weights = WEIGHTS
    else:  # depthwise: [1, kh, kw, channels], multiplier 1 needs OUT_C input channels
        weights = WEIGHTS[:, :, :, 0].transpose(1, 2, 0)[None]
    zps = [0] * OUT_C if weights_zero_point is None else weights_zero_point
    qdim = 0 if opcode == "CONV_2D" else 3
    w = g.const(weights, "int8", SCALES, zps, qdim=qdim)
    if bias_quant == "clean":
        bias = g.const(BIAS, "int32", SCALES * np.float32(IN_SCALE))
    elif bias_quant is None:
        bias = g.const(BIAS, "int32")
    else:
        bias = g.const(BIAS, "int32", **bias_quant)
    in_shape = IN_SHAPE if opcode == "CONV_2D" else (1, 5, 5, OUT_C)
    if opcode != "CONV_2D":
        g.tensors[x] = b.tensor(in_shape, "int8", name="t0", scale=[np.float32(IN_SCALE)], zero_point=[-3])
    y = g.q8((1, 5, 5, OUT_C), OUT_SCALE, 2)
    if opcode == "CONV_2D":
        g.op("CONV_2D", [x, w, bias], [y], OPT["CONV_2D"], CONV_OPTIONS)
    else:
        options = b.T(f0=("int8", 0), f1=("int32", 1), f2=("int32", 1), f3=("int32", 1), f4=("int8", 0),
                      f5=("int32", 1), f6=("int32", 1))
        g.op("DEPTHWISE_CONV_2D", [x, w, bias], [y], OPT["DEPTHWISE_CONV_2D"], options)
    return g.build([x], [y]), in_shape


def reshape_model(shape_quant=None):
    g = Graph()
    x = g.q8((1, 2, 6), 0.1, 4)
    shape = g.const(np.array([3, 4], np.int32), "int32", **(shape_quant or {}))
    y = g.q8((3, 4), 0.1, 4)
    g.op("RESHAPE", [x, shape], [y], OPT["RESHAPE"], b.T())
    return g.build([x], [y]), (1, 2, 6)


def float_conv_model(odd_scale=None):
    """A float32 CONV_2D whose input, weights, bias and output carry a quantization (odd_scale):
    float kernels never read it."""
    q = {} if odd_scale is None else {"scale": [odd_scale], "zero_point": [3]}
    g = Graph()
    x = g.tensor(IN_SHAPE, "float32", **q)
    w = g.const((WEIGHTS.astype(np.float32) / 64), "float32", **q)
    bias = g.const(BIAS.astype(np.float32) / 1000, "float32", **q)
    y = g.tensor((1, 5, 5, OUT_C), "float32", **q)
    g.op("CONV_2D", [x, w, bias], [y], OPT["CONV_2D"], CONV_OPTIONS)
    return g.build([x], [y]), IN_SHAPE


# name -> (odd model, clean model): one per relaxed field.
RELAXED = {
    "bias_scale_negative": (conv_model({"scale": [-1.0] * OUT_C}), conv_model()),
    "bias_scale_zero": (conv_model({"scale": [0.0] * OUT_C}), conv_model()),
    "bias_scale_nan_and_inf": (conv_model({"scale": [np.nan, np.inf, 1.0, -np.inf]}), conv_model()),
    "bias_scale_per_tensor_odd": (conv_model({"scale": [123.0]}), conv_model()),
    "bias_without_quantization": (conv_model(None), conv_model()),
    "bias_zero_point_nonzero": (conv_model({"scale": SCALES * np.float32(IN_SCALE), "zero_point": [7] * OUT_C}),
                                conv_model()),
    "bias_zero_point_outside_int32": (conv_model({"scale": [1.0], "zero_point": [1 << 40]}), conv_model()),
    "bias_scale_count_not_channels": (conv_model({"scale": [0.1, 0.2, 0.3]}), conv_model()),
    "bias_quantized_dimension_outside": (conv_model({"scale": SCALES * np.float32(IN_SCALE), "qdim": 5}),
                                         conv_model()),
    "weights_one_zero_point_for_all_channels": (conv_model(weights_zero_point=[0]), conv_model()),
    "conv_weights_zero_point_ignored": (conv_model(weights_zero_point=[3, -2, 5, 1]), conv_model()),
    "depthwise_weights_zero_point_ignored": (conv_model(weights_zero_point=[4, 0, -1, 9],
                                                        opcode="DEPTHWISE_CONV_2D"),
                                             conv_model(opcode="DEPTHWISE_CONV_2D")),
    "depthwise_bias_scale_negative": (conv_model({"scale": [-0.5]}, opcode="DEPTHWISE_CONV_2D"),
                                      conv_model(opcode="DEPTHWISE_CONV_2D")),
    "float_tensors_scale_negative": (float_conv_model(-1.0), float_conv_model()),
    "reshape_shape_scale_negative": (reshape_model({"scale": [-2.0], "zero_point": [99]}), reshape_model()),
    "reshape_shape_zero_point_outside_int32": (reshape_model({"scale": [0.5], "zero_point": [-(1 << 33)]}),
                                               reshape_model()),
}


def _inputs(model, shape, seed):
    rng = np.random.default_rng(seed)
    if model.tensors[model.inputs[0]].dtype == "float32":
        return [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    x = rng.integers(-128, 128, shape).astype(np.int8)
    return [x, np.full(shape, -128, np.int8), np.full(shape, 127, np.int8)]


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    folder = tmp_path_factory.mktemp("permissive")
    models, runs, lines = [], {}, []
    for seed, (name, pair) in enumerate(RELAXED.items()):
        for variant, (data, shape) in zip(("odd", "clean"), pair):
            k = len(models)
            model = parse_model(data, f"{name}_{variant}.tflite")
            models.append(model)
            for r, x in enumerate(_inputs(model, shape, seed)):
                x.tofile(folder / f"in_{k}_{r}.bin")
                lines.append((k, [folder / f"in_{k}_{r}.bin"], [folder / f"out_{k}_{r}.bin"]))
                runs[(name, variant, r)] = (model, x, folder / f"out_{k}_{r}.bin")
    HostProgram("permissive-fields", models).run(folder, lines)
    return runs


@pytest.mark.parametrize("name", sorted(RELAXED))
def test_field_tflm_never_reads_does_not_matter(name, program):
    for r in range(3):
        odd_model, x, odd_path = program[(name, "odd", r)]
        clean_model, _, clean_path = program[(name, "clean", r)]
        odd, clean = odd_path.read_bytes(), clean_path.read_bytes()
        assert odd == clean, f"run {r}: the odd field changed the output"
        reference = np.ascontiguousarray(Interpreter(odd_model).invoke([x])[0])
        if reference.dtype == np.float32:  # float: within accumulation rounding (the reference sums in float64)
            got = np.frombuffer(odd, np.float32).reshape(reference.shape)
            assert np.allclose(got, reference, rtol=1e-5, atol=1e-5), f"run {r}: C++ and the reference differ"
        else:
            assert odd == reference.tobytes(), f"run {r}: C++ and the reference interpreter differ"


# ---- still refused: fields whose value the arithmetic needs -----------------------------------

def _refused(data, *needles):
    with pytest.raises(ModelError) as error:
        emit.generate_header(parse_model(data, "odd.tflite"), "odd")
    text = str(error.value)
    assert "\n" not in text and all(n in text for n in needles), text


def test_fully_connected_weights_zero_point_is_refused():
    """TFLM's FULLY_CONNECTED subtracts the filter zero point; tinynet's kernel assumes 0."""
    g = Graph()
    x = g.q8((1, 4), 0.1, 0)
    w = g.const(RNG.integers(-127, 128, (3, 4)).astype(np.int8), "int8", [0.01], [5])
    y = g.q8((1, 3), 0.2, 0)
    g.op("FULLY_CONNECTED", [x, w, -1], [y], OPT["FULLY_CONNECTED"], b.T())
    _refused(g.build([x], [y]), "zero point 0")


@pytest.mark.parametrize("scale", [-0.02, float("nan")])
def test_weights_scale_that_the_multiplier_needs_is_refused(scale):
    scales = SCALES.copy()
    scales[1] = scale
    g = Graph()
    x = g.q8(IN_SHAPE, IN_SCALE, -3)
    w = g.const(WEIGHTS, "int8", scales, [0] * OUT_C, qdim=0)
    y = g.q8((1, 5, 5, OUT_C), OUT_SCALE, 2)
    g.op("CONV_2D", [x, w, -1], [y], OPT["CONV_2D"], CONV_OPTIONS)
    _refused(g.build([x], [y]), "quantization scale", "finite number > 0")


def test_activation_with_too_few_per_channel_scales_is_refused():
    g = Graph()
    x = g.tensor((1, 2, 2, 3), "int8", [0.1, 0.2], [0, 0], qdim=3)
    y = g.q8((1, 2, 2, 3), 0.1, 0)
    g.op("RELU", [x], [y])
    _refused(g.build([x], [y]), "per-channel scales")
