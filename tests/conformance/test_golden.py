"""The numpy reference against TFLM's outputs for every golden model in shared/golden."""

import json

import numpy as np
import pytest

from conftest import (SHARED, UNSUPPORTED_GOLDENS, model_for_golden, placeholder_if_empty, run_tinynet,
                      shared_listing)
from tinynet_py.errors import ModelError
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import load_model

GOLDENS = placeholder_if_empty(
    [p.name for p in shared_listing("golden") if (p / "meta.json").exists()],
    f"no goldens found under {SHARED / 'golden'} (set TINYNET_SHARED)")

# Models whose ops tinynet does not support (UNSUPPORTED_GOLDENS): refused with a clear message.


def golden_pairs(directory):
    pairs = []
    for k in range(1000):
        if (directory / f"in_{k}.bin").exists() and (directory / f"out_{k}.bin").exists():
            pairs.append(k)
    return pairs


@pytest.mark.parametrize("name", GOLDENS)
def test_reference_matches_tflm(name):
    path = model_for_golden(name)
    directory = SHARED / "golden" / name
    if name in UNSUPPORTED_GOLDENS:
        with pytest.raises(ModelError) as e:
            load_model(path)
        message = str(e.value)
        assert str(path) in message and UNSUPPORTED_GOLDENS[name] in message
        assert "supported ops:" in message and "FULLY_CONNECTED" in message
        return
    meta = json.loads((directory / "meta.json").read_text())
    model = load_model(path)
    interpreter = Interpreter(model)
    tin, tout = model.tensors[model.inputs[0]], model.tensors[model.outputs[0]]
    assert list(tin.shape) == meta["inputs"][0]["shape"]
    assert list(tout.shape) == meta["outputs"][0]["shape"]
    pairs = golden_pairs(directory)
    assert pairs, f"no in_K.bin/out_K.bin pairs in {directory}"
    for k in pairs:
        x = np.fromfile(directory / f"in_{k}.bin", dtype=tin.dtype)
        want = np.fromfile(directory / f"out_{k}.bin", dtype=tout.dtype)
        interpreter.reset()      # each golden comes from a fresh TFLM interpreter (state at reset)
        got = interpreter.invoke([x])[0].reshape(-1)
        if tout.dtype == "float32":
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"{name} in_{k}")
        else:
            assert np.array_equal(got, want), (
                f"{name} in_{k}: {(got != want).sum()} of {got.size} values differ")


def test_cli_verify_reports_every_input():
    model = model_for_golden("hello_world_int8")
    result = run_tinynet("verify", model, "--golden", SHARED / "golden" / "hello_world_int8")
    assert result.returncode == 0, result.stderr
    assert "8/8 golden inputs match" in result.stdout
    assert result.stdout.count("bit-exact") == 8


def test_cli_verify_detects_a_mismatch(tmp_path):
    model = model_for_golden("hello_world_int8")
    source = SHARED / "golden" / "hello_world_int8"
    (tmp_path / "in_0.bin").write_bytes((source / "in_0.bin").read_bytes())
    wrong = bytes([(b + 1) % 256 for b in (source / "out_0.bin").read_bytes()])
    (tmp_path / "out_0.bin").write_bytes(wrong)
    result = run_tinynet("verify", model, "--golden", tmp_path)
    assert result.returncode == 1
    assert "MISMATCH" in result.stdout and "0/1 golden inputs match" in result.stdout
