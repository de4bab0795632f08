"""Bad inputs: every problem is one line on stderr, the right exit status, no traceback."""

import random
import struct

import numpy as np
import pytest

from tinynet_py import tflite_builder as b
from conftest import SHARED, run_tinynet, shared_path
from synthetic_models import fc_model
from tinynet_py.errors import ModelError
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import parse_model


def check_convert_error(tmp_path, name, data, *words):
    """`tinynet convert` of a bad model: exit 2, one line naming the file and the problem, no
    traceback, no header and no temporary file left (what tests/fuzz/fuzz_convert.py checks)."""
    path = write(tmp_path, name, data)
    out = tmp_path / "out" / "model.hpp"
    result = run_tinynet("convert", path, "-o", out)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tinynet: error: {path}: "), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in lines[0], lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not out.exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())
    return lines[0]


def check_error(path, status=2, *words):
    result = run_tinynet("inspect", path)
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"tinynet: error: {path}: "), lines[0]
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_valid_synthetic_model_runs(tmp_path):
    model = parse_model(fc_model(), "fc.tflite")
    out = Interpreter(model).invoke([np.array([[1, -2, 3, -4]], np.int8)])[0]
    # acc = bias + sum(w * (x + 1)); real multiplier 0.5 * 0.25 / 0.75.
    acc = np.array([10, -20, 30]) + np.arange(-6, 6).reshape(3, 4) @ np.array([2, -1, 4, -3])
    assert np.array_equal(out.ravel(), np.clip(np.round(acc / 6) + 3, -128, 127))
    assert run_tinynet("inspect", write(tmp_path, "fc.tflite", fc_model())).returncode == 0


@pytest.mark.parametrize("cut", [0, 3, 7, 8, 40, 0.5, -12])
def test_truncated_file(tmp_path, cut):
    data = fc_model()
    length = int(len(data) * cut) if isinstance(cut, float) else (cut if cut >= 0 else len(data) + cut)
    path = write(tmp_path, "truncated.tflite", data[:length])
    line = check_error(path)
    assert "truncated" in line or "not a TFLite model" in line


def test_truncated_real_model(tmp_path):
    data = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite").read_bytes()
    check_error(write(tmp_path, "kws_cut.tflite", data[:len(data) // 2]), 2, "truncated")


def test_corrupt_root_offset(tmp_path):
    data = bytearray(fc_model())
    struct.pack_into("<I", data, 0, len(data) + 100)
    check_error(write(tmp_path, "root.tflite", bytes(data)), 2, "corrupt", "outside the file")


def test_corrupt_vector_length(tmp_path):
    data = bytearray(fc_model())
    # The root table's first reference field: make the vector it points to enormous.
    model = parse_model(bytes(data), "x")       # sanity: valid before the damage
    assert model.ops
    from tinynet_py.flatbuf import Buffer
    root = Buffer(bytes(data), "x").root_table("Model")
    field = root._field_pos(2, 4, "subgraphs")
    vector = field + struct.unpack_from("<I", data, field)[0]
    struct.pack_into("<I", data, vector, 0x7FFFFFF0)
    check_error(write(tmp_path, "vector.tflite", bytes(data)), 2, "Model.subgraphs")


def test_wrong_file_identifier(tmp_path):
    check_error(write(tmp_path, "ident.tflite", fc_model(identifier=b"ABCD")), 2,
                "not a TFLite model", "TFL3")


def test_not_a_flatbuffer_at_all(tmp_path):
    check_error(write(tmp_path, "text.tflite", b"hello, this is not a model\n" * 3), 2)


def test_unknown_schema_version(tmp_path):
    check_error(write(tmp_path, "v2.tflite", fc_model(version=2)), 2,
                "schema version 2", "only version 3")


def test_unsupported_op_synthetic(tmp_path):
    line = check_error(write(tmp_path, "op.tflite", fc_model(opcode=35)), 2,
                       "op #0 UNIDIRECTIONAL_SEQUENCE_RNN", "not supported", "supported ops:")
    assert "CONV_2D" in line and "UNIDIRECTIONAL_SEQUENCE_LSTM" in line


def test_unsupported_dtype(tmp_path):
    check_error(write(tmp_path, "f64.tflite", fc_model(dtype="float64")), 2,
                "float64", "supported:")


def test_dynamic_shape(tmp_path):
    check_error(write(tmp_path, "dyn.tflite", fc_model(input_signature=(1, -1))), 2,
                "dynamic shape", "static")


def test_unknown_batch_dimension_is_accepted():
    model = parse_model(fc_model(input_signature=(-1, 4)), "batch.tflite")
    assert model.tensors[0].shape == (1, 4)


def test_control_flow_with_several_subgraphs(tmp_path):
    body = b.T(f0=("tables", [b.tensor((1,), "int32")]), f1=("vec_int32", [0]),
               f2=("vec_int32", [0]), f3=("tables", []))
    data = fc_model(opcode=119, extra_subgraphs=[body])
    check_error(write(tmp_path, "while.tflite", data), 2, "WHILE", "subgraph")


def test_hybrid_op_without_a_hybrid_kernel_is_refused(tmp_path):
    """Float input, int8 weights: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED have hybrid
    kernels (core/hybrid.hpp); TRANSPOSE_CONV has none and is refused by name."""
    from synthetic_models import ACT, OPT, PAD, Graph
    g = Graph()
    shape_t = g.const(np.array([1, 4, 4, 2], np.int32), "int32")
    x = g.f32((1, 4, 4, 3))
    wt = g.const(np.ones((2, 3, 3, 3), np.int8), "int8", np.array([0.01], np.float32), [0])
    y = g.f32((1, 4, 4, 2))
    g.op("TRANSPOSE_CONV", [shape_t, wt, x], [y], OPT["TRANSPOSE_CONV"],
         b.T(f0=("int8", PAD["SAME"]), f1=("int32", 1), f2=("int32", 1), f3=("int8", ACT["NONE"])))
    check_error(write(tmp_path, "hybrid_tconv.tflite", g.build([x], [y])), 2,
                "TRANSPOSE_CONV", "hybrid", "CONV_2D")


def test_missing_file_is_status_1(tmp_path):
    check_error(tmp_path / "nope.tflite", 1, "cannot read")


def test_usage_error_is_one_line():
    result = run_tinynet("inspect")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("tinynet: error: ")


def test_verify_bad_golden_directory(tmp_path):
    path = write(tmp_path, "fc.tflite", fc_model())
    result = run_tinynet("verify", path, "--golden", tmp_path / "missing")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("seed", range(4))
def test_random_corruption_never_escapes_as_another_exception(seed):
    """Flip bytes of valid models: loading and preparing either works or raises ModelError."""
    sources = [fc_model()]
    hello = SHARED / "models" / "tflm-examples" / "hello_world_int8.tflite"
    if hello.exists():
        sources.append(hello.read_bytes())
    rng = random.Random(seed)
    for _ in range(150):
        data = bytearray(rng.choice(sources))
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(data))
            data[position] = rng.randrange(256)
        try:
            Interpreter(parse_model(bytes(data), "fuzz.tflite"))
        except ModelError as e:
            assert str(e).startswith("fuzz.tflite: ")


# ---- regressions found by tests/fuzz/fuzz_convert.py: one per class of finding ----------------

@pytest.mark.parametrize("scale", [float("inf"), float("nan"), -0.5])
def test_non_finite_or_negative_scale(tmp_path, scale):
    """Found: a scale of inf/NaN reached QuantizeMultiplier and escaped as OverflowError/ValueError."""
    check_convert_error(tmp_path, "scale.tflite", fc_model(input_scale=scale),
                        "tensor 0 'input'", "quantization scale", "finite number > 0")


def test_zero_activation_scale(tmp_path):
    check_convert_error(tmp_path, "scale0.tflite", fc_model(output_scale=0.0), "'output'", "must be > 0")


@pytest.mark.parametrize("zero_point", [-129, 128, 1 << 40])
def test_zero_point_outside_the_type(tmp_path, zero_point):
    check_convert_error(tmp_path, "zp.tflite", fc_model(input_zero_point=zero_point),
                        f"zero point {zero_point}", "int8 range [-128, 127]")


def test_rescale_factor_too_large_for_the_multiplier(tmp_path):
    """input scale x weight scale / output scale = 2^40: no int32 multiplier and shift <= 31 holds
    it (the C++ kernels would shift by 32 or more: undefined behaviour)."""
    check_convert_error(tmp_path, "ratio.tflite", fc_model(input_scale=2.0 ** 30, weight_scale=2.0 ** 10,
                                                           output_scale=1.0),
                        "op #0 FULLY_CONNECTED", "too large for the fixed-point multiplier")


def test_subgraph_without_inputs(tmp_path):
    """Found: an empty subgraph input list escaped as IndexError."""
    check_convert_error(tmp_path, "noinputs.tflite", fc_model(inputs=()), "lists no inputs")


def test_non_finite_float_option(tmp_path):
    """Found: a softmax beta of NaN escaped as ValueError."""
    tensors = [b.tensor((1, 4), "int8", name="input", scale=0.5, zero_point=-1),
               b.tensor((1, 4), "int8", name="output", scale=1 / 256, zero_point=-128)]
    op = b.operator(0, [0], [1], 9, b.T(f0=("float32", float("nan"))))
    check_convert_error(tmp_path, "beta.tflite", b.model(tensors, [op], [0], [1], [25]),
                        "op #0 SOFTMAX", "beta = nan")


def test_buffer_size_not_matching_the_shape(tmp_path):
    check_convert_error(tmp_path, "size.tflite", fc_model(weights_shape=(3, 5)),
                        "'weights'", "needs 15 bytes", "buffer has 12")


def test_non_finite_float_weights(tmp_path):
    """Found: a NaN among a float model's weights reached the emitter as ValueError."""
    weights = np.array([[1.0, np.nan]], np.float32)
    tensors = [b.tensor((1, 2), "float32", name="input"), b.tensor((1, 2), "float32", buffer=1, name="weights"),
               b.tensor((1, 1), "float32", name="output")]
    op = b.operator(0, [0, 1, -1], [2], 8, b.T(f0=("int8", 0)))
    check_convert_error(tmp_path, "nan.tflite", b.model(tensors, [op], [0], [2], [9], [weights.tobytes()]),
                        "'weights'", "non-finite")


def test_elementwise_output_shape_differs_from_input(tmp_path):
    """Found: a SOFTMAX whose output tensor claims 8 values for 4 inputs was converted (the
    reference interpreter then failed on it)."""
    tensors = [b.tensor((1, 4), "int8", name="input", scale=0.5, zero_point=-1),
               b.tensor((1, 8), "int8", name="output", scale=1 / 256, zero_point=-128)]
    op = b.operator(0, [0], [1], 9, b.T(f0=("float32", 1.0)))
    check_convert_error(tmp_path, "softmax.tflite", b.model(tensors, [op], [0], [1], [25]),
                        "op #0 SOFTMAX", "(1, 4)", "(1, 8)")


@pytest.mark.parametrize("scale", [1e-9, 1e11])
def test_logistic_input_scale_outside_its_range(tmp_path, scale):
    """Found by review of what the fuzzer cannot reach (no real model has LOGISTIC/TANH): an input
    scale outside [2^-28, 16) wrote a header that did not compile (a shift by -2 or by 64)."""
    tensors = [b.tensor((1, 4), "int8", name="input", scale=scale, zero_point=0),
               b.tensor((1, 4), "int8", name="output", scale=1 / 256, zero_point=-128)]
    op = b.operator(0, [0], [1])
    check_convert_error(tmp_path, "logistic.tflite", b.model(tensors, [op], [0], [1], [14]),
                        "op #0 LOGISTIC", "input scale", "[2^-28, 16)")


def test_reshape_output_quantization_differs(tmp_path):
    """Found (fuzzer, int16 STRIDED_SLICE): an output scale different from the input's wrote a
    header that the C++ library refused to compile; RESHAPE and STRIDED_SLICE copy values."""
    shape = b.tensor((2,), "int32", buffer=1, name="shape")
    tensors = [b.tensor((1, 4), "int8", name="input", scale=0.5, zero_point=-1), shape,
               b.tensor((2, 2), "int8", name="output", scale=0.25, zero_point=-1)]
    op = b.operator(0, [0, 1], [2], 17, b.T(f0=("vec_int32", [2, 2])))
    data = b.model(tensors, [op], [0], [2], [22], [np.array([2, 2], np.int32).tobytes()])
    check_convert_error(tmp_path, "reshape.tflite", data, "op #0 RESHAPE", "does not requantize")


def several_unsupported_ops_model():
    """float32 1x4 -> SIN -> TANH -> COS -> SIN: ops #0, #2 and #3 are unsupported."""
    from tinynet_py import schema
    opcodes = {name: code for code, name in enumerate(schema.BUILTIN_OPERATORS)}
    names = ["SIN", "TANH", "COS", "SIN"]
    tensors = [b.tensor((1, 4), "float32", name=f"t{i}") for i in range(len(names) + 1)]
    kinds = sorted(set(names))
    ops = [b.operator(kinds.index(name), [i], [i + 1]) for i, name in enumerate(names)]
    return b.model(tensors, ops, [0], [len(names)], [opcodes[k] for k in kinds], [])


@pytest.mark.parametrize("command", ["inspect", "convert"])
def test_every_unsupported_op_is_listed_at_once(tmp_path, command):
    """inspect and convert name every unsupported op of the model in their one error line, and the
    supported list they print is exactly the registry's (what the emitter can write)."""
    from tinynet_py import ops
    path = write(tmp_path, "several.tflite", several_unsupported_ops_model())
    out = tmp_path / "out" / "model.hpp"
    args = ("convert", path, "-o", out) if command == "convert" else ("inspect", path)
    result = run_tinynet(*args)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tinynet: error: {path}: "), result.stderr
    line = lines[0]
    assert "3 ops not supported by tinynet: " in line, line
    assert "ops #0, #3 SIN" in line and "op #2 COS" in line, line
    assert "#1" not in line, line                      # TANH is supported
    listed = line.split("(supported ops: ")[1].rstrip(")").split(", ")
    assert listed == list(ops.SUPPORTED_OPS)
    assert not any(ops.REGISTRY[name].pending for name in listed)   # only ops the C++ has
    assert not out.exists()
