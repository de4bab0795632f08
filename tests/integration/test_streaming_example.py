"""examples/streaming: MLPerf Tiny's anomaly detector fed frame by frame through StreamWindow. Every
window run in place must give the bytes of the same network on a copied window (the example makes
the copy itself, the way a program without StreamWindow would), and the scores must move with the
signal (a saturated input would give one constant score and prove nothing). The same main.cpp
built for a Cortex-M4 (no heap) prints, under QEMU, the host's scores for the same 40 frames."""

import re
import shutil
import subprocess

import pytest

from conftest import ROOT, shared_path
from device_examples import needs_cortex_m, run_example_on_cortex_m4

needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")


@pytest.fixture(scope="module")
def built(example_build):
    """The CMake build folder of the host example (it also holds the converted model header)."""
    shared_path("models", "mlperf-tiny", "ad01_int8.tflite")
    return example_build("streaming").parent


@needs_cmake
def test_streaming_window_in_place_equals_copied_windows(built):
    program = built / "streaming" / "streaming"
    result = subprocess.run([str(program), "30"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = re.findall(r"^frame +(\d+)  anomaly score +([\d.]+)  same bytes as the copied window$", result.stdout, re.M)
    assert [int(t) for t, _ in rows] == list(range(4, 30))  # the first window is full at frame 4
    assert len({score for _, score in rows}) > 10, result.stdout
    assert "26 windows, 0 differ" in result.stdout
    refused = subprocess.run([str(program), "3"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "at least 5" in refused.stderr


WINDOW_BUFFER = re.compile(r"window buffer (\d+) bytes")


@needs_cmake
@needs_cortex_m
def test_the_cortex_m4_prints_the_host_scores(built):
    host = subprocess.run([str(built / "streaming" / "streaming")], capture_output=True, text=True, timeout=120)
    assert host.returncode == 0, host.stdout + host.stderr
    device = run_example_on_cortex_m4(ROOT / "examples" / "streaming" / "main.cpp", built / "streaming",
                                      built / "streaming_m4.elf")
    assert len(re.findall(r"^frame +\d+  anomaly score +[\d.]+  same bytes as the copied window$", device,
                          re.M)) == 36, device  # 40 frames: windows at frames 4..39
    # The same scores to the thousandth, the same verdicts; only the window buffer's bookkeeping
    # differs (32-bit against 64-bit), around the same 9 frames x 128 bins.
    assert WINDOW_BUFFER.sub("", device) == WINDOW_BUFFER.sub("", host.stdout)
    assert int(WINDOW_BUFFER.search(device).group(1)) >= 9 * 128
