"""`tinynet inspect` and the CLI's help."""

import json

from conftest import run_tinynet, shared_path


def test_help_has_examples():
    result = run_tinynet("--help")
    assert result.returncode == 0
    assert "inspect" in result.stdout and "verify" in result.stdout and "examples:" in result.stdout
    for command in ("inspect", "verify"):
        sub = run_tinynet(command, "--help")
        assert sub.returncode == 0 and "example" in sub.stdout


def test_inspect_table_and_json_totals():
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    table = run_tinynet("inspect", model)
    assert table.returncode == 0, table.stderr
    assert "DEPTHWISE_CONV_2D" in table.stdout and "arena estimate" in table.stdout
    assert "2,656,768" in table.stdout                   # MACs, as MLPerf Tiny lists (2.66 M)
    info = json.loads(run_tinynet("inspect", model, "--json").stdout)
    totals = info["totals"]
    assert totals["macs"] == 2656768
    assert len(info["layers"]) == 13
    # The compiled plan (scripts/tinynet bench: arena_bytes 8,496): the depthwise and pointwise
    # layers write over their inputs, so one 8,000-byte buffer beside the 496-byte input.
    assert totals["arena_estimate_bytes"] == 8496
    # The arena column: the first convolution's output takes 8,000 bytes; the in-place layers
    # after it, and the RESHAPE (an alias), nothing of their own.
    arena = [r["arena_bytes"] for r in info["layers"]]
    assert arena[0] == 8000 and arena[1:9] == [0] * 8 and arena[10] == 0
    assert "arena B" in table.stdout
    assert totals["flash_estimate_bytes"] >= totals["weight_bytes"] > 22000


def test_inspect_mlperf_macs():
    expected = {"pretrainedResnet_quant": 12501632, "ad01_int8": 264192, "vww_96_int8": 7489664}
    for name, macs in expected.items():
        model = shared_path("models", "mlperf-tiny", f"{name}.tflite")
        info = json.loads(run_tinynet("inspect", model, "--json").stdout)
        assert info["totals"]["macs"] == macs
