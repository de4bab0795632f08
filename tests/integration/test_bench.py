"""`tinynet bench` runs (no timing asserts): the JSON has every documented key, the figures are
consistent with each other and with the network's compile-time constants."""

import json
import shutil

import pytest

from conftest import run_tinynet, shared_path

KEYS_M = {"instructions", "flash_bytes", "flash_constant_bytes", "weight_bytes", "data_by_table", "ram_bytes", "arena_bytes",
          "stack_bytes", "macs", "compile_seconds", "compiler_peak_kib"}


def bench(target, *flags):
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    result = run_tinynet("bench", model, "--target", target, "--json", *flags)
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
    # The depthwise and pointwise layers run in place over one 25x5x64 int8 activation; the peak is
    # the first convolution's 49x10 input (496 bytes, aligned) and its 8000-byte output.
    assert figures["arena_bytes"] == 496 + 8000
    assert 0 < figures["flash_bytes"] < 200_000
    # kws has 22,016 int8 weights; they and the per-channel tables are data objects, the kernels
    # are not.
    assert KWS_WEIGHTS < figures["flash_constant_bytes"] < figures["flash_bytes"]


KWS_WEIGHTS = 10 * 4 * 64 + 4 * (9 * 64 + 64 * 64) + 64 * 12   # first conv, 4 blocks, the FullyConnected


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ or qemu-system-arm not installed")
@pytest.mark.parametrize("model, flags", [
    ("mlperf-tiny/kws_ref_model", ()), ("mlperf-tiny/kws_ref_model", ("--weight-bits", "4")),
    ("mlperf-tiny/vww_96_int8", ()), ("mlperf-tiny/vww_96_int8", ("--optimize", "size")),
    ("mlperf-tiny/pretrainedResnet_quant", ()),
    ("tflm-examples/trained_lstm_int8", ()), ("tflm-examples/hello_world_int8", ())])
def test_weight_bytes_is_the_flash_the_tables_take(model, flags):
    """Net::weight_bytes, the compile-time figure a flash budget is checked against, as compiled
    for a DSP core (Cortex-M7: the Cortex-M4's kernels, without the cycle estimate), against the
    data objects measured in the image: within 128 bytes and 0.5 %. (The DSP kernels store the
    int8 convolutions' weights widened to int16 and the depthwise layers' output stage in records
    of their own; the tables an optimised build folds into instructions make up the slack. Built
    for size as well: vww's depthwise layers of 106, 30, 19, 27 and 31 channels kept their whole
    stage table at -Os for the channels beyond a multiple of four, 1,924 bytes that weight_bytes
    did not count.)"""
    folder, name = model.split("/")
    path = shared_path("models", folder, name + ".tflite")
    result = run_tinynet("bench", path, "--target", "cortex-m7", "--json", *flags)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    measured = figures["flash_constant_bytes"]
    assert abs(figures["weight_bytes"] - measured) <= 128 + measured // 200, (figures["weight_bytes"], measured)


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ or qemu-system-arm not installed")
def test_bench_int4_weights_stay_packed_in_flash():
    """At 4 bits the weights stay two per byte in flash: the image's data objects hold at least
    the packed nibbles, and less than half of what the int8 model stores (whose DSP kernels keep
    int16 copies of the convolutions' weights)."""
    int8 = bench("cortex-m4", "--sparse", "dense")
    int4 = bench("cortex-m4", "--sparse", "dense", "--weight-bits", "4")
    assert KWS_WEIGHTS // 2 < int4["flash_constant_bytes"] < int8["flash_constant_bytes"] / 2
    assert int4["flash_bytes"] < int8["flash_bytes"]
    # By table (the symbols' names): the int8 convolutions' weights are int16 copies in the DSP
    # kernels' layout and the header's int8 arrays are not linked; the depthwise weights are
    # sign-extended pairs. At 4 bits the header's packed arrays are what the kernels read.
    conv, depthwise, fc = 10 * 4 * 64 + 4 * 64 * 64, 4 * 9 * 64, 64 * 12
    assert int8["data_by_table"]["wide_rows"] == 2 * conv
    assert int8["data_by_table"]["packed_weights"] == 2 * depthwise
    assert int8["data_by_table"]["weights"] == fc
    assert int4["data_by_table"]["weights"] == (conv + fc) // 2
    assert "wide_rows" not in int4["data_by_table"] and "packed_weights" not in int4["data_by_table"]
    # The objects named by an op add up to the data the network adds to the image, less a few
    # bytes of objects whose symbols name no op (17 bytes on kws).
    for figures in (int8, int4):
        named = sum(figures["data_by_table"].values())
        assert figures["flash_constant_bytes"] - 64 <= named <= figures["flash_constant_bytes"]
    # `inspect` says where the image stores widened weights (analysis.widened_on_dsp, a rule of
    # its own): it must say so exactly where the compiled image holds them.
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    for figures, flags in ((int8, ()), (int4, ("--weight-bits", "4"))):
        inspect = run_tinynet("inspect", model, "--json", *flags)
        assert inspect.returncode == 0, inspect.stderr
        widened = {"wide_rows", "packed_weights"} & set(figures["data_by_table"])
        assert json.loads(inspect.stdout)["totals"]["flash_estimate_widened_on_dsp"] == bool(widened), flags


def test_bench_kws_host():
    figures = bench("host")
    assert {"ns_per_inference", "arena_bytes", "macs", "compile_seconds", "compiler_peak_kib"} <= set(figures)
    assert figures["ns_per_inference"] > 0
    assert figures["arena_bytes"] == 496 + 8000     # the same compile-time plan as on the device


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ or qemu-system-arm not installed")
def test_bench_per_layer_adds_up_to_the_whole_inference():
    model = shared_path("models", "tflm-examples", "hello_world_int8.tflite")
    result = run_tinynet("bench", model, "--target", "cortex-m4", "--json", "--per-layer")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    layers = figures["layers"]
    assert [r["op"] for r in layers] == ["FULLY_CONNECTED"] * 3
    assert [r["macs"] for r in layers] == [16, 256, 16]     # 1 -> 16 -> 16 -> 1
    assert all(r["instructions"] > 0 for r in layers)
    # The per-layer build reads the timer after every op: its sum exceeds the plain build's count
    # by that hook only (a few instructions per op).
    total = sum(r["instructions"] for r in layers)
    assert figures["instructions"] <= total <= figures["instructions"] + 40 * len(layers)
    # The middle 16x16 layer does 16x the MACs of the others and must cost the most.
    assert layers[1]["instructions"] == max(r["instructions"] for r in layers)
    # Its 256 weights make it the largest in flash too (the last layer's 16 weights and one bias
    # may be folded into its instructions); the layers' data add up to the tables.
    assert layers[1]["data_bytes"] >= 256 and layers[1]["data_bytes"] == max(r["data_bytes"] for r in layers)
    assert layers[0]["data_bytes"] >= 16
    assert sum(r["data_bytes"] for r in layers) == sum(figures["data_by_table"].values())


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ or qemu-system-arm not installed")
def test_bench_optimize_size_builds_with_os():
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    result = run_tinynet("bench", model, "--target", "cortex-m4", "--json", "--optimize", "size",
                         "--prune-synapses", "0.8")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["optimize"] == "size"
    # The pruned DepthwiseConv2D layers run unrolled (core/sparsity.hpp: at -Os where that is
    # smaller than dense, as it is for these 43-56 channels) and in place, as dense ones do, so no
    # two 25x5 activations are live together: the arena stays below the sum of a 54-channel one,
    # 6,750 bytes, and the next of 56, 7,000 (9,376 bytes as planned now; the 43 -> 62 channel
    # pointwise layer widens in place). Until session 24 the unrolled rows wrote beside their input.
    assert figures["arena_bytes"] < 6750 + 7000
    # `inspect --optimize size` estimates this arena without a compiler.
    info = json.loads(run_tinynet("inspect", model, "--json", "--optimize", "size", "--prune-synapses", "0.8").stdout)
    assert info["totals"]["arena_estimate_bytes"] == figures["arena_bytes"]
    # The unrolled build took 162,400 bytes of flash at -Os; compressed tables take about 33,000.
    assert figures["flash_bytes"] < 63_336                # below the unpruned model's -O2 flash


def test_bench_per_layer_needs_a_cortex_m_target():
    model = shared_path("models", "tflm-examples", "hello_world_int8.tflite")
    result = run_tinynet("bench", model, "--target", "host", "--per-layer")
    assert result.returncode != 0
    assert "--per-layer" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ or qemu-system-arm not installed")
def test_bench_cascade_reports_one_arena_against_two():
    first = shared_path("models", "tflm-examples", "micro_speech_quantized.tflite")
    second = shared_path("models", "tflm-examples", "hello_world_int8.tflite")
    result = run_tinynet("bench", first, "--cascade", second, "--target", "cortex-m4", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    cascade = figures["cascade"]
    assert cascade["second_model"] == "hello_world_int8.tflite" and cascade["second_instructions"] > 0
    # micro_speech's arena is 5,968 bytes (tests/integration/test_report.py checks it against the
    # compiled plan); hello_world's three small layers need far less.
    assert figures["arena_bytes"] == 5968 and 0 < cascade["second_arena_bytes"] < 5968
    assert cascade["shared_arena_bytes"] == 5968
    assert cascade["separate_arena_bytes"] == 5968 + cascade["second_arena_bytes"]
    assert cascade["separate_ram_bytes"] - cascade["shared_ram_bytes"] == cascade["second_arena_bytes"]
    assert cascade["shared_ram_bytes"] >= 5968 + figures["stack_bytes"]
    refused = run_tinynet("bench", first, "--cascade", second, "--target", "host")
    assert refused.returncode == 2 and refused.stderr.startswith("tinynet: error: --cascade")
