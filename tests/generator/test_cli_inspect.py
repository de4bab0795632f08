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
    # kws's int8 convolutions: on DSP cores their weights are stored widened (the Cortex-M4 image
    # holds 51,585 bytes of tables: tests/integration/test_bench.py), which the estimate says.
    assert totals["flash_estimate_widened_on_dsp"]
    assert "DSP cores" in table.stdout and "tinynet bench" in table.stdout
    # RAM is more than the arena: the last line says where the stack is measured.
    assert table.stdout.rstrip().splitlines()[-1].startswith("stack:") and "--target" in table.stdout.splitlines()[-1]


def test_inspect_flash_estimate_note_only_where_weights_widen():
    """ad01 has only FullyConnected layers, stored as they are: no note on widened weights."""
    model = shared_path("models", "mlperf-tiny", "ad01_int8.tflite")
    table = run_tinynet("inspect", model)
    assert table.returncode == 0, table.stderr
    assert "flash estimate" in table.stdout and "DSP cores" not in table.stdout
    info = json.loads(run_tinynet("inspect", model, "--json").stdout)
    assert not info["totals"]["flash_estimate_widened_on_dsp"]


def test_inspect_resnet_arena_with_the_first_block_fused():
    # The compiled plan (scripts/tinynet bench: arena_bytes 24,576): the first residual block runs
    # fused, row by row (layers/conv/residual_rows.hpp: y1, y2 and the sum in x's buffer), the
    # second block's conv4 and its 1x1 stride-2 shortcut write over their inputs (neither shrinks
    # the arena alone: graph/network.hpp's second plan keeps ties and prunes); the third block's
    # convolutions stay out of place. Without a compiler here (analysis._residual_fusable).
    from tinynet_py import analysis
    from tinynet_py.tflite import parse_model
    model = shared_path("models", "mlperf-tiny", "pretrainedResnet_quant.tflite")
    info = json.loads(run_tinynet("inspect", model, "--json").stdout)
    assert info["totals"]["arena_estimate_bytes"] == 24576
    arena = [r["arena_bytes"] for r in info["layers"]]
    assert arena[1] == arena[2] == arena[3] == 0 and arena[4] == 8192 and arena[5] == arena[6] == 0
    assert arena[9] == arena[10] == 4096
    parsed = parse_model(open(model, "rb").read())
    assert analysis._widening_kept(parsed) == {("fuse", 1), 5, 6}
    assert analysis._residual_fusable(parsed, 1) is not None and analysis._residual_fusable(parsed, 4) is None


def test_inspect_mlperf_macs():
    expected = {"pretrainedResnet_quant": 12501632, "ad01_int8": 264192, "vww_96_int8": 7489664}
    for name, macs in expected.items():
        model = shared_path("models", "mlperf-tiny", f"{name}.tflite")
        # The MACs of the model as published: vww's unread channels (test_unread_channels.py) kept.
        info = json.loads(run_tinynet("inspect", model, "--json", "--keep-unread-channels").stdout)
        assert info["totals"]["macs"] == macs


def test_inspect_marks_state_and_counts_it_once():
    # trained_lstm_int8: the LSTM keeps an int8 hidden state (1x20: 20 B) and an int16 cell state
    # (1x20: 40 B) across invokes; they are not activations the op reads.
    model = shared_path("models", "tflm-examples", "trained_lstm_int8.tflite")
    info = json.loads(run_tinynet("inspect", model, "--json").stdout)
    lstm = info["layers"][0]
    assert lstm["op"] == "UNIDIRECTIONAL_SEQUENCE_LSTM"
    assert lstm["inputs"] == [[1, 28, 28]]
    assert lstm["state"] == [[1, 20], [1, 20]] and lstm["state_dtypes"] == ["int8", "int16"]
    assert lstm["state_bytes"] == 60 and lstm["activation_bytes"] == 28 * 20
    assert all(r["state_bytes"] == 0 and r["state"] == [] for r in info["layers"][1:])
    assert info["totals"]["state_bytes"] == 60
    table = run_tinynet("inspect", model)
    assert table.returncode == 0, table.stderr
    row = next(line for line in table.stdout.splitlines() if "UNIDIRECTIONAL_SEQUENCE_LSTM" in line)
    assert "1x28x28, state: 1x20, state: 1x20" in row and " 60 " in row
    assert "state B" in table.stdout and "of which state kept across invokes 60 B" in table.stdout
    stateless = run_tinynet("inspect", shared_path("models", "mlperf-tiny", "ad01_int8.tflite"))
    assert "state" not in stateless.stdout


def test_inspect_counts_a_weight_tensor_two_layers_share_once():
    # Two FULLY_CONNECTED layers read one weights tensor and one bias (as the steps of an unrolled
    # RNN do): each row shows what its layer reads, the total counts the tensors once.
    import numpy as np
    import synthetic_models as sm
    from tinynet_py import analysis, tflite_builder as b
    from tinynet_py.tflite import parse_model
    g = sm.Graph()
    w = g.const(np.arange(16, dtype=np.float32).reshape(4, 4) / 16, "float32")   # 64 B
    bias = g.const(np.ones(4, np.float32), "float32")                             # 16 B
    x, h, y = g.f32((1, 4)), g.f32((1, 4)), g.f32((1, 4))
    options = b.T(f0=("int8", 0))
    g.op("FULLY_CONNECTED", [x, w, bias], [h], sm.OPT["FULLY_CONNECTED"], options)
    g.op("FULLY_CONNECTED", [h, w, bias], [y], sm.OPT["FULLY_CONNECTED"], options)
    info = analysis.summary(parse_model(g.build([x], [y]), "shared.tflite"))
    assert [r["weight_bytes"] for r in info["layers"]] == [80, 80]
    assert info["totals"]["weight_bytes"] == 80
