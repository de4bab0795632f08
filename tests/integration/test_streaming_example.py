"""examples/streaming: MLPerf Tiny's anomaly detector fed frame by frame through StreamWindow. Every
window run in place must give the bytes of the same network on a copied window (the example makes
the copy itself, the way a program without StreamWindow would), and the scores must move with the
signal (a saturated input would give one constant score and prove nothing)."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import ROOT, shared_path

needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")


@needs_cmake
def test_streaming_window_in_place_equals_copied_windows(tmp_path):
    model = shared_path("models", "mlperf-tiny", "ad01_int8.tflite")
    env = dict(os.environ, TINYNET_SHARED=str(model.parents[2]))
    subprocess.run(["cmake", "-S", str(ROOT / "examples"), "-B", str(tmp_path), "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, capture_output=True, env=env)
    build = subprocess.run(["cmake", "--build", str(tmp_path), "--target", "streaming", "--", "-j2"],
                           capture_output=True, text=True, env=env)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    program = tmp_path / "streaming" / "streaming"
    result = subprocess.run([str(program), "30"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = re.findall(r"^frame +(\d+)  anomaly score +([\d.]+)  same bytes as the copied window$", result.stdout, re.M)
    assert [int(t) for t, _ in rows] == list(range(4, 30))  # the first window is full at frame 4
    assert len({score for _, score in rows}) > 10, result.stdout
    assert "26 windows, 0 differ" in result.stdout
    refused = subprocess.run([str(program), "3"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "at least 5" in refused.stderr
