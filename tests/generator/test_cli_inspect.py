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
    # Two 1x25x5x64 int8 activations alive at once: 2 x 8000 bytes.
    assert totals["arena_estimate_bytes"] == 16000
    assert totals["flash_estimate_bytes"] >= totals["weight_bytes"] > 22000


def test_inspect_mlperf_macs():
    expected = {"pretrainedResnet_quant": 12501632, "ad01_int8": 264192, "vww_96_int8": 7489664}
    for name, macs in expected.items():
        model = shared_path("models", "mlperf-tiny", f"{name}.tflite")
        info = json.loads(run_tinynet("inspect", model, "--json").stdout)
        assert info["totals"]["macs"] == macs
