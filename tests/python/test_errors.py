"""Bad inputs: every problem is one line on stderr, the right exit status, no traceback."""

import random
import struct

import numpy as np
import pytest

import tflite_builder as b
from conftest import SHARED, model_for_golden, run_tinynet, shared_path
from tinynet_py.errors import ModelError
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import parse_model


def fc_model(version=3, identifier=b"TFL3", opcode=9, input_signature=None, dtype="int8",
             extra_subgraphs=()):
    """A valid int8 FULLY_CONNECTED model 1x4 -> 1x3 (variants for the error cases)."""
    weights = np.arange(-6, 6, dtype=np.int8).reshape(3, 4)
    bias = np.array([10, -20, 30], dtype=np.int32)
    tensors = [
        b.tensor((1, 4), dtype, name="input", scale=0.5, zero_point=-1,
                 shape_signature=input_signature),
        b.tensor((3, 4), "int8", buffer=1, name="weights", scale=0.25),
        b.tensor((3,), "int32", buffer=2, name="bias", scale=0.125),
        b.tensor((1, 3), "int8", name="output", scale=0.75, zero_point=3),
    ]
    op = b.operator(0, [0, 1, 2], [3], 8, b.T(f0=("int8", 0)))
    return b.model(tensors, [op], [0], [3], [opcode], [weights.tobytes(), bias.tobytes()],
                   version=version, identifier=identifier, extra_subgraphs=extra_subgraphs)


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
    line = check_error(write(tmp_path, "op.tflite", fc_model(opcode=44)), 2,
                       "UNIDIRECTIONAL_SEQUENCE_LSTM", "not supported", "supported ops:")
    assert "CONV_2D" in line


def test_unsupported_op_real_lstm_model():
    path = shared_path("models", "tflm-examples", "trained_lstm_int8.tflite")
    check_error(path, 2, "op #0 UNIDIRECTIONAL_SEQUENCE_LSTM", "supported ops:")


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


def test_hybrid_model_is_refused():
    path = shared_path("models", "mlperf-tiny", "kws_ref_model_float32.tflite")
    check_error(path, 2, "hybrid")


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
