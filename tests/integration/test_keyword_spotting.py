"""examples/keyword_spotting: MLPerf Tiny's kws model converted at build time from ../shared, built
with CMake and run on TFLM's golden inputs: its scores are TFLM's bytes and its top class is the
argmax of TFLM's output, printed with the class name. Without ../shared the example is skipped at
configure time with a message."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT, shared_path

# MLPerf Tiny's class order (mlcommons/tiny, benchmark/training/keyword_spotting/get_dataset.py).
LABELS = ["down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown"]

needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")


@needs_cmake
def test_keyword_spotting_top_class_is_tflms(tmp_path, example_build):
    golden = shared_path("golden", "kws_ref_model")
    program = example_build("keyword_spotting") / "keyword_spotting"

    # The inputs for which TFLM's output is there (in_K.bin with out_K.bin).
    inputs = sorted((p for p in golden.glob("in_*.bin") if (golden / p.name.replace("in_", "out_")).exists()),
                    key=lambda p: int(p.stem.split("_")[1]))
    assert inputs
    result = subprocess.run([str(program), *map(str, inputs)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    reports = re.findall(r"^(\S+in_(\d+)\.bin)\n  scores:([- \d]+)\n  top class: (\d+) (\w+) \(p = ([\d.]+)\)$",
                         result.stdout, re.M)
    assert len(reports) == len(inputs), result.stdout
    for _, k, scores, top, name, _ in reports:
        expected = np.fromfile(golden / f"out_{k}.bin", dtype=np.int8)
        assert [int(s) for s in scores.split()] == expected.tolist(), f"in_{k}: scores differ from TFLM's"
        assert int(top) == int(np.argmax(expected)), f"in_{k}: top class differs from TFLM's argmax"
        assert name == LABELS[int(top)]

    # Without arguments it reads a golden input by itself.
    default = subprocess.run([str(program)], capture_output=True, text=True, timeout=60)
    assert default.returncode == 0 and "top class:" in default.stdout, default.stdout + default.stderr
    # A file of the wrong size is refused.
    short = tmp_path / "short.bin"
    short.write_bytes(bytes(100))
    refused = subprocess.run([str(program), str(short)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "is not 490 bytes" in refused.stderr


@needs_cmake
def test_keyword_spotting_is_skipped_without_shared(tmp_path):
    env = dict(os.environ, TINYNET_SHARED=str(tmp_path / "no-shared"))
    result = subprocess.run(["cmake", "-S", str(ROOT / "examples"), "-B", str(tmp_path / "build")],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "examples/keyword_spotting skipped" in result.stdout
    targets = subprocess.run(["cmake", "--build", str(tmp_path / "build"), "--target", "help"],
                             capture_output=True, text=True, env=env).stdout
    assert "hello_world" in targets and "keyword_spotting" not in targets
