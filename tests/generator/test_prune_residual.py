"""--prune-neurons on residual blocks: the channels of the tensors an ADD joins (and those the
channel-wise ops around it pass on) are pruned as a group, the same channels from every one of
them, from the layers writing them (output channels) and from those reading them (input
channels). The C++ of the pruned model against the numpy reference of the pruned model is in
tests/conformance/test_cpp_vs_reference.py (chain_residual_blocks_pruned)."""

import numpy as np

import synthetic_models as sm
from conftest import run_tinynet, shared_path
from tinynet_py import prune
from tinynet_py.analysis import summary
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import load_model, parse_model

# chain_residual_blocks: op 0 stem conv, 1 and 2 block 1's convs, 3 ADD, 4 block 2's 1x1 conv,
# 5 ADD, 6 MEAN, 7 RESHAPE, 8 FULLY_CONNECTED.
GROUP_WRITERS = (0, 2, 3, 4, 5, 6, 7)


def _rows_of(original, pruned):
    """The original row (axis 0) each pruned row is, found by value."""
    return [next(k for k in range(original.shape[0]) if np.array_equal(original[k], row)) for row in pruned]


def test_residual_group_loses_the_same_channels_everywhere():
    case = sm.chain_residual_blocks("chain_residual_blocks")
    model = parse_model(case.data, "residual.tflite")
    pruned, rows = prune.prune_neurons(model, 0.5)
    group = [r for r in rows if r["opcode"] == "residual group"]
    assert len(group) == 1 and group[0]["op"] == [0, 2, 4] and group[0]["joins"] == [3, 5]
    assert group[0]["consumer"] == [1, 4, 8] and (group[0]["units_before"], group[0]["units_after"]) == (8, 4)
    # Every tensor of the group has 4 channels left; block 1's inner channels (a plain chain) too.
    for k in GROUP_WRITERS:
        assert pruned.tensors[pruned.ops[k].outputs[0]].shape[-1] == 4, f"op {k}"
    assert pruned.tensors[pruned.ops[1].outputs[0]].shape == (1, 6, 6, 4)
    # The kept channels are the same ones in every writer (output channels: weights, bias, scales)...
    w = lambda m, k: m.tensors[m.ops[k].inputs[1]]    # noqa: E731
    keep = _rows_of(w(model, 0).data, w(pruned, 0).data)
    assert len(set(keep)) == 4
    for k in (0, 2, 4):
        np.testing.assert_array_equal(w(pruned, k).scale, w(model, k).scale[keep])
        np.testing.assert_array_equal(pruned.tensors[pruned.ops[k].inputs[2]].data,
                                      model.tensors[model.ops[k].inputs[2]].data[keep])
    # ... and the readers lost exactly those input channels: block 1's first conv, block 2's conv
    # (which writes and reads the group), the FullyConnected after MEAN and RESHAPE.
    np.testing.assert_array_equal(w(pruned, 4).data, w(model, 4).data[keep][..., keep])
    np.testing.assert_array_equal(w(pruned, 8).data, w(model, 8).data[:, keep])
    inner_keep = _rows_of(w(model, 1).data[..., keep], w(pruned, 1).data)
    np.testing.assert_array_equal(w(pruned, 1).data, w(model, 1).data[inner_keep][..., keep])
    np.testing.assert_array_equal(w(pruned, 2).data, w(model, 2).data[keep][..., inner_keep])
    assert pruned.ops[7].options.get("new_shape") in (None, [1, 4])
    assert pruned.tensors[pruned.ops[7].inputs[1]].data.tolist() == [1, 4]
    Interpreter(pruned).invoke(case.feeds[0])    # a valid model


def test_an_add_with_a_graph_input_is_not_pruned():
    """A group reaching the graph's input cannot shrink: the stem's input is the graph input, so an
    ADD of the input itself leaves its group alone (here: chain_residual_add_concat, whose ADD reads
    the graph input and feeds a CONCATENATION)."""
    case = sm.chain_residual_add_concat("chain_residual_add_concat")
    model = parse_model(case.data, "concat.tflite")
    _, rows = prune.prune_neurons(model, 0.5)
    assert not [r for r in rows if r["opcode"] == "residual group"]


def test_pretrained_resnet_blocks_shrink():
    model = load_model(str(shared_path("models", "mlperf-tiny", "pretrainedResnet_quant.tflite")))
    pruned, rows = prune.prune_neurons(model, 0.5)
    groups = [(r["units_before"], r["units_after"]) for r in rows if r["opcode"] == "residual group"]
    assert groups == [(16, 8), (32, 16), (64, 32)]
    before, after = summary(model)["totals"]["macs"], summary(pruned)["totals"]["macs"]
    assert after <= 0.35 * before, (after, before)


def test_cli_reports_the_groups(tmp_path):
    model = shared_path("models", "mlperf-tiny", "pretrainedResnet_quant.tflite")
    proc = run_tinynet("convert", model, "--prune-neurons", "0.5", "-o", tmp_path / "r.hpp")
    assert proc.returncode == 0, proc.stderr
    assert "residual group of ops 9, 10 (joined by op 11): 64 -> 32 channels (ops 14 shrink with it)" in proc.stdout
