"""examples/distillation/distill.py: runs (few epochs) into a temporary folder; checks only
robust facts: accuracies well above chance, the files, and that tinynet's ONNX import of
the exported models reproduces the script's own numpy forward pass."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

pytest.importorskip("onnx")
pytest.importorskip("sklearn")

from tinynet_py.onnx_import import load_onnx  # noqa: E402
from tinynet_py.reference import Interpreter  # noqa: E402

SCRIPT = ROOT / "examples" / "distillation" / "distill.py"


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("distill")
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(folder), "--teacher-epochs", "15",
                             "--student-epochs", "40"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "distilled" in result.stdout
    return folder


def test_files_and_accuracy(out):
    for name in ("teacher.onnx", "student.onnx", "student_baseline.onnx", "calib.npz", "test.npz",
                 "predictions.npz", "metrics.json"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["teacher"] > 0.9
    assert metrics["student_distilled"] > 0.85 and metrics["student_baseline"] > 0.85
    assert metrics["student_parameters"] < metrics["teacher_parameters"] / 10
    calib = np.load(out / "calib.npz")
    assert calib["x"].dtype == np.float32 and calib["x"].shape == (200, 64)
    test = np.load(out / "test.npz")
    assert test["x"].dtype == np.float32 and test["x"].shape[1] == 64
    assert test["y"].shape == (len(test["x"]),) and set(np.unique(test["y"])) <= set(range(10))


@pytest.mark.parametrize("name", ["teacher", "student"])
def test_onnx_import_matches_numpy(out, name):
    model = load_onnx(out / f"{name}.onnx")
    assert [op.opcode for op in model.ops][-1] == "SOFTMAX"
    acts = [op.options["fused_activation_function"] for op in model.ops if op.opcode == "FULLY_CONNECTED"]
    assert acts == ["RELU"] * (len(acts) - 1) + ["NONE"]
    interp = Interpreter(model)
    test = np.load(out / "test.npz")
    expected = np.load(out / "predictions.npz")[name]
    got = np.concatenate([interp.invoke([x[None]])[0] for x in test["x"]])
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    accuracy = float(np.mean(got.argmax(axis=1) == test["y"]))
    assert accuracy == pytest.approx(json.loads((out / "metrics.json").read_text())[
        "teacher" if name == "teacher" else "student_distilled"])


def test_student_goes_through_the_generator_pipeline(out):
    """The recipe's next step: quantize and evaluate the distilled student from its ONNX file."""
    import subprocess
    from conftest import TINYNET
    header = out / "student.hpp"
    proc = subprocess.run([str(TINYNET), "convert", str(out / "student.onnx"), "--quantize", str(out / "calib.npz"),
                           "--eval", str(out / "test.npz"), "-o", str(header)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("accuracy on"))
    float_accuracy, int8_accuracy = (float(v) for v in re.findall(r"([\d.]+)%", line))
    assert float_accuracy > 85 and int8_accuracy >= float_accuracy - 2.0
    assert "namespace student" in header.read_text() and "using network = " in header.read_text()
