"""`tinynet bench` runs (no timing asserts): the JSON has every documented key, the figures are
consistent with each other and with the network's compile-time constants."""

import json
import shutil

import pytest

from conftest import run_tinynet, shared_path

KEYS_M = {"instructions", "flash_bytes", "ram_bytes", "arena_bytes", "stack_bytes", "macs",
          "compile_seconds", "compiler_peak_kib"}


def bench(target):
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    result = run_tinynet("bench", model, "--target", target, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ or qemu-system-arm not installed")
def test_bench_kws_cortex_m4():
    figures = bench("cortex-m4")
    assert KEYS_M <= set(figures)
    assert figures["macs"] == 2656768                      # MLPerf Tiny's published MAC count
    assert figures["instructions"] > figures["macs"] / 2    # SMLAD does two MACs per instruction at best
    assert figures["ram_bytes"] >= figures["arena_bytes"] + figures["stack_bytes"]
    assert figures["arena_bytes"] >= 2 * 8000               # two 25x5x64 int8 activations live at once
    assert 0 < figures["flash_bytes"] < 200_000


def test_bench_kws_host():
    figures = bench("host")
    assert {"ns_per_inference", "arena_bytes", "macs", "compile_seconds", "compiler_peak_kib"} <= set(figures)
    assert figures["ns_per_inference"] > 0
    assert figures["arena_bytes"] >= 2 * 8000
