"""Channels no layer reads (prune.drop_unread_channels, on by default in every command): a layer's
output channels on which its one weighted consumer has only zero weights are removed, with the
channel-wise ops between them, and the consumer's zero columns. Expected: the same outputs as the
model as read (numpy reference of the unchanged model, exact on int8), the channel counts worked
out here from the zero patterns written into the weights, and no change where a channel is read or
cannot shrink alone (a grouped convolution, a shared constant). The C++ of a model with unread
channels against TFLM: vww_96_int8's goldens (test_cpp_conformance.py, host and Cortex-M4), whose
later layers read 2-53 % of their input channels."""

import json

import numpy as np

from conftest import run_tinynet, shared_path
from tinynet_py import prune
from tinynet_py.ir import Model, Op, Tensor
from tinynet_py.quantize import quantize_model
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import load_model

CONV = {"padding": "SAME", "stride_w": 1, "stride_h": 1, "fused_activation_function": "RELU",
        "dilation_w_factor": 1, "dilation_h_factor": 1}


def _tensor(tensors, shape, data=None):
    t = Tensor(index=len(tensors), name=f"t{len(tensors)}", shape=tuple(shape), dtype="float32",
               data=None if data is None else np.asarray(data, np.float32))
    tensors.append(t)
    return t.index


def _first_conv(rng, tensors, ops):
    """The models' first layer: a 6x6x2 input, conv1 (3x3 SAME, 8 channels, random weights).
    Returns the input and conv1's output."""
    x = _tensor(tensors, (1, 6, 6, 2))
    w1, b1 = rng.randn(8, 3, 3, 2), rng.randn(8) * 0.1
    c1 = _tensor(tensors, (1, 6, 6, 8))
    ops.append(Op(0, "CONV_2D", [x, _tensor(tensors, w1.shape, w1), _tensor(tensors, (8,), b1)], [c1], dict(CONV)))
    return x, c1


def cnn(seed=0, groups=1):
    """conv1 (8 ch) -> max pool -> depthwise -> conv2 (6 ch) -> reshape -> FC (4).
    conv2 reads no value of conv1's channels 1 and 6 (zero weights at every tap), the FC none of
    conv2's channel 3 (zero at each of the 9 positions). With groups=2, conv2 is a grouped
    convolution (filter depth 4) with zero columns 1 and 2 of each group."""
    rng = np.random.RandomState(seed)
    tensors, ops = [], []
    x, c1 = _first_conv(rng, tensors, ops)
    p1 = _tensor(tensors, (1, 3, 3, 8))
    ops.append(Op(1, "MAX_POOL_2D", [c1], [p1], {"padding": "VALID", "stride_w": 2, "stride_h": 2,
                                                  "filter_width": 2, "filter_height": 2,
                                                  "fused_activation_function": "NONE"}))
    wd, bd = rng.randn(1, 3, 3, 8), rng.randn(8) * 0.1
    d1 = _tensor(tensors, (1, 3, 3, 8))
    ops.append(Op(2, "DEPTHWISE_CONV_2D", [p1, _tensor(tensors, wd.shape, wd), _tensor(tensors, (8,), bd)], [d1],
                  dict(CONV, depth_multiplier=1)))
    w2, b2 = rng.randn(6, 3, 3, 8 // groups), rng.randn(6) * 0.1
    if groups == 1:
        w2[..., [1, 6]] = 0
    else:
        w2[..., [1, 2]] = 0
    c2 = _tensor(tensors, (1, 3, 3, 6))
    ops.append(Op(3, "CONV_2D", [d1, _tensor(tensors, w2.shape, w2), _tensor(tensors, (6,), b2)], [c2], dict(CONV)))
    flat = _tensor(tensors, (1, 54))
    ops.append(Op(4, "RESHAPE", [c2, _tensor(tensors, (2,), [1, 54])], [flat], {"new_shape": [1, 54]}))
    tensors[ops[4].inputs[1]].dtype = "int32"
    tensors[ops[4].inputs[1]].data = np.array([1, 54], np.int32)
    wf = rng.randn(4, 9, 6)
    wf[:, :, 3] = 0
    out = _tensor(tensors, (1, 4))
    ops.append(Op(5, "FULLY_CONNECTED", [flat, _tensor(tensors, (4, 54), wf.reshape(4, 54)),
                                         _tensor(tensors, (4,), rng.randn(4))],
                  [out], {"fused_activation_function": "NONE", "weights_format": 0, "keep_num_dims": False}))
    return Model(path="<cnn>", sha256="", tensors=tensors, ops=ops, inputs=[x], outputs=[out])


def inputs(count=8, seed=5):
    return np.random.RandomState(seed).randn(count, 1, 6, 6, 2).astype(np.float32)


def outputs(model, xs):
    interpreter = Interpreter(model)
    return np.array([interpreter.invoke([x])[0].reshape(-1) for x in xs])


def assert_same_int8_outputs(slim, model, seed, count=20):
    """The slimmed model gives the model's bytes on `count` random int8 inputs."""
    a, b = Interpreter(slim), Interpreter(model)
    rng = np.random.RandomState(seed)
    for _ in range(count):
        x = rng.randint(-128, 128, size=(1, 6, 6, 2)).astype(np.int8)
        np.testing.assert_array_equal(a.invoke([x])[0], b.invoke([x])[0])


def weights(model, k):
    return model.tensors[model.ops[k].inputs[1]].data


def test_unread_channels_leave_every_layer_that_computed_them():
    model = cnn()
    slim, rows = prune.drop_unread_channels(model)
    assert [(r["op"], r["units_before"], r["units_after"], r["consumer"]) for r in rows] == [
        (0, 8, 6, 3), (3, 6, 5, 5)]
    assert rows[0]["path"] == [1, 2]
    original = weights(model, 0)
    np.testing.assert_array_equal(weights(slim, 0), original[[0, 2, 3, 4, 5, 7]])
    assert weights(slim, 2).shape == (1, 3, 3, 6)                       # the depthwise shrank with it
    np.testing.assert_array_equal(weights(slim, 2), weights(model, 2)[..., [0, 2, 3, 4, 5, 7]])
    np.testing.assert_array_equal(weights(slim, 3), weights(model, 3)[[0, 1, 2, 4, 5]][..., [0, 2, 3, 4, 5, 7]])
    assert weights(slim, 5).shape == (4, 45)                            # the FC lost 9 columns
    assert slim.tensors[slim.ops[4].outputs[0]].shape == (1, 45)
    assert weights(model, 5).shape == (4, 54)                           # the input model is untouched
    xs = inputs()
    np.testing.assert_allclose(outputs(slim, xs), outputs(model, xs), rtol=1e-6, atol=1e-6)


def test_int8_outputs_are_the_same_bytes():
    model = cnn(seed=1)
    q = quantize_model(model, inputs(32, seed=2))
    slim, rows = prune.drop_unread_channels(q)
    assert rows and rows[0]["units_after"] <= 6
    w = slim.tensors[slim.ops[0].inputs[1]]
    assert w.scale.size == w.shape[0]                                     # per-channel scales follow
    assert_same_int8_outputs(slim, q, seed=3)


def test_channels_of_one_value_fold_into_the_next_bias():
    """conv2's channels 0 and 4 have zero weights (and a bias): each holds its requantized bias (after RELU) at
    every position, and the FC reads them at 9 positions each; their share moves into the FC's
    int32 bias and they go. conv1's channel 2 has zero weights too, but conv2 (3x3, SAME) reads
    it with padding at the border: it stays, its value not one throughout."""
    model = cnn(seed=6)
    weights(model, 0)[2] = 0
    weights(model, 3)[..., 2] = 0.7
    weights(model, 3)[[0, 4]] = 0
    q = quantize_model(model, inputs(32, seed=7))
    slim, rows = prune.drop_unread_channels(q)
    # conv1 loses channels 1 and 6 (conv2 reads them with zero weights), not 2; conv2 loses 3
    # (zero FC weights) and the folded 0 and 4.
    assert [(r["op"], r["units_after"], r["folded"]) for r in rows] == [(0, 6, 0), (3, 3, 2)]
    fc = weights(q, 5).reshape(4, 9, 6).astype(np.int64)
    conv2 = Interpreter(q).invoke([np.zeros((1, 6, 6, 2), np.int8)], keep_all=True)[q.ops[3].outputs[0]]
    held = conv2.reshape(9, 6)[0, [0, 4]].astype(np.int64)
    assert np.all(conv2.reshape(9, 6)[:, [0, 4]] == held)
    zp = q.tensors[q.ops[5].inputs[0]].zero_point_scalar
    bias = q.tensors[q.ops[5].inputs[2]].data.astype(np.int64)
    np.testing.assert_array_equal(slim.tensors[slim.ops[5].inputs[2]].data,
                                  bias + (fc[:, :, [0, 4]] * (held - zp)).sum(axis=(1, 2)))
    assert_same_int8_outputs(slim, q, seed=8)


def pointwise_chain(seed=0):
    """conv1 (3x3 SAME, 8 ch) -> depthwise (3x3 SAME) -> conv2 (1x1, 4 ch): the depthwise has only
    zero weights on channels 2 and 5, so those hold its bias (requantized, after RELU) at every
    position whatever conv1 computes; conv2 reads every channel."""
    rng = np.random.RandomState(seed)
    tensors, ops = [], []
    x, c1 = _first_conv(rng, tensors, ops)
    wd, bd = rng.randn(1, 3, 3, 8), np.abs(rng.randn(8)) + 0.5
    wd[..., [2, 5]] = 0
    d1 = _tensor(tensors, (1, 6, 6, 8))
    ops.append(Op(1, "DEPTHWISE_CONV_2D", [c1, _tensor(tensors, wd.shape, wd), _tensor(tensors, (8,), bd)], [d1],
                  dict(CONV, depth_multiplier=1)))
    w2, b2 = rng.randn(4, 1, 1, 8), rng.randn(4) * 0.1
    out = _tensor(tensors, (1, 6, 6, 4))
    ops.append(Op(2, "CONV_2D", [d1, _tensor(tensors, w2.shape, w2), _tensor(tensors, (4,), b2)], [out],
                  dict(CONV, fused_activation_function="NONE")))
    return Model(path="<chain>", sha256="", tensors=tensors, ops=ops, inputs=[x], outputs=[out])


def test_channels_a_depthwise_silences_fold_and_leave_the_layer_before():
    """The depthwise's all-zero channels 2 and 5 do not depend on the input: conv2 adds their value
    through its bias, and conv1 and the depthwise no longer compute them. On the float model
    (0 x inf is not 0) nothing changes."""
    model = pointwise_chain()
    q = quantize_model(model, inputs(32, seed=9))
    slim, rows = prune.drop_unread_channels(q)
    assert [(r["op"], r["units_before"], r["units_after"], r["folded"], r["path"]) for r in rows] == [
        (0, 8, 6, 2, [1])]
    kept = [0, 1, 3, 4, 6, 7]
    np.testing.assert_array_equal(weights(slim, 0), weights(q, 0)[kept])
    np.testing.assert_array_equal(weights(slim, 1), weights(q, 1)[..., kept])
    np.testing.assert_array_equal(weights(slim, 2), weights(q, 2)[..., kept])
    held = Interpreter(q).invoke([np.zeros((1, 6, 6, 2), np.int8)], keep_all=True)[q.ops[1].outputs[0]]
    held = held.reshape(36, 8)[:, [2, 5]].astype(np.int64)
    assert np.all(held == held[0]) and np.any(held[0] != q.tensors[q.ops[2].inputs[0]].zero_point_scalar)
    zp = q.tensors[q.ops[2].inputs[0]].zero_point_scalar
    w2 = weights(q, 2).reshape(4, 8).astype(np.int64)
    bias = q.tensors[q.ops[2].inputs[2]].data.astype(np.int64)
    np.testing.assert_array_equal(slim.tensors[slim.ops[2].inputs[2]].data,
                                  bias + (w2[:, [2, 5]] * (held[0] - zp)).sum(axis=1))
    assert_same_int8_outputs(slim, q, seed=10)
    assert prune.drop_unread_channels(model)[1] == []


def test_read_channels_stay():
    model = cnn(seed=2)
    weights(model, 3)[..., [1, 6]] = 0.5                                  # conv2 now reads every channel
    weights(model, 5)[:, 3::6] = 0.5
    slim, rows = prune.drop_unread_channels(model)
    assert rows == []
    assert weights(slim, 0).shape == (8, 3, 3, 2) and weights(slim, 5).shape == (4, 54)


def test_a_grouped_convolution_keeps_its_input_channels():
    model = cnn(seed=3, groups=2)
    slim, rows = prune.drop_unread_channels(model)
    # conv1 feeds a grouped convolution, whose input channels belong to groups; conv2 is one,
    # and an output channel less would leave its groups unequal: neither shrinks.
    assert rows == []
    assert weights(slim, 0).shape == (8, 3, 3, 2) and weights(slim, 3).shape == (6, 3, 3, 4)


def test_a_shared_bias_is_not_folded_into():
    model = cnn(seed=9)
    weights(model, 3)[..., [1, 6]] = 0.5                                  # conv1's channels all read
    weights(model, 3)[[0, 4]] = 0                                         # conv2's 0 and 4: one value
    weights(model, 5)[:, 3::6] = 0.5
    extra = _tensor(model.tensors, (1, 4))                # an FC on the input shares the last FC's bias
    other = _tensor(model.tensors, (4, 72), np.random.RandomState(11).randn(4, 72))
    model.ops.append(Op(6, "FULLY_CONNECTED", [model.inputs[0], other, model.ops[5].inputs[2]],
                        [extra], dict(model.ops[5].options)))
    model.outputs.append(extra)
    q = quantize_model(model, inputs(32, seed=10))
    q.ops[6].inputs[2] = q.ops[5].inputs[2]               # quantizing gave each its own int32 bias
    slim, rows = prune.drop_unread_channels(q)
    assert rows == []
    np.testing.assert_array_equal(slim.tensors[slim.ops[5].inputs[2]].data, q.tensors[q.ops[5].inputs[2]].data)


def test_a_shared_constant_keeps_its_shape():
    model = cnn(seed=4)
    model.ops[2].inputs[2] = model.ops[0].inputs[2]        # the depthwise reuses conv1's bias tensor
    slim, rows = prune.drop_unread_channels(model)
    assert [r["op"] for r in rows] == [3]
    assert weights(slim, 0).shape == (8, 3, 3, 2)


def test_inspect_reports_the_channels_and_the_flag_keeps_them():
    vww = shared_path("models", "mlperf-tiny", "vww_96_int8.tflite")
    slim = run_tinynet("inspect", vww, "--json")
    kept = run_tinynet("inspect", vww, "--json", "--keep-unread-channels")
    assert slim.returncode == 0 and kept.returncode == 0, slim.stderr + kept.stderr
    slim, kept = json.loads(slim.stdout), json.loads(kept.stdout)
    assert "op 14 CONV_2D: 128 -> 57 channels: op 16 reads the others only with zero weights" in slim["notes"][2]
    assert len(slim["notes"]) == 9 and kept["notes"] == []
    assert "229 of them, which hold one value throughout, it now adds through its bias" in slim["notes"][8]
    assert [r["totals"]["macs"] for r in (slim, kept)] == [3_733_073, 7_489_664]
    assert [r["layers"][14]["output"] for r in (slim, kept)] == [[1, 6, 6, 57], [1, 6, 6, 128]]


def test_prune_neurons_leaves_grouped_convolutions_whole():
    """The chain rule the two passes share: --prune-neurons could shrink neither side of a grouped
    convolution either (it used to remove conv1's channels under conv2's groups)."""
    model = cnn(seed=5, groups=2)
    pruned, rows = prune.prune_neurons(model, 0.25)
    assert rows == []
    assert weights(pruned, 0).shape == (8, 3, 3, 2) and weights(pruned, 3).shape == (6, 3, 3, 4)


def residual_with_grouped(grouped_reader):
    """conv_a (8 ch) -> conv_b (8 ch) -> ADD(conv_a, conv_b) -> FC (4): one residual channel group
    written by conv_a and conv_b and read by conv_b and the FC. conv_b is a grouped convolution
    (groups 2, filter depth 4) when grouped_reader is set."""
    rng = np.random.RandomState(12)
    tensors, ops = [], []
    x = _tensor(tensors, (1, 4, 4, 3))
    wa = rng.randn(8, 3, 3, 3)
    a = _tensor(tensors, (1, 4, 4, 8))
    ops.append(Op(0, "CONV_2D", [x, _tensor(tensors, wa.shape, wa), _tensor(tensors, (8,), rng.randn(8))], [a], dict(CONV)))
    wb = rng.randn(8, 3, 3, 4 if grouped_reader else 8)
    b = _tensor(tensors, (1, 4, 4, 8))
    ops.append(Op(1, "CONV_2D", [a, _tensor(tensors, wb.shape, wb), _tensor(tensors, (8,), rng.randn(8))], [b], dict(CONV)))
    s = _tensor(tensors, (1, 4, 4, 8))
    ops.append(Op(2, "ADD", [a, b], [s], {"fused_activation_function": "NONE"}))
    wf = rng.randn(4, 128)
    out = _tensor(tensors, (1, 4))
    ops.append(Op(3, "FULLY_CONNECTED", [s, _tensor(tensors, wf.shape, wf), _tensor(tensors, (4,), rng.randn(4))],
                  [out], {"fused_activation_function": "NONE", "weights_format": 0, "keep_num_dims": False}))
    return Model(path="<residual>", sha256="", tensors=tensors, ops=ops, inputs=[x], outputs=[out])


def test_prune_neurons_leaves_a_residual_group_with_a_grouped_convolution_whole():
    plain, rows = prune.prune_neurons(residual_with_grouped(False), 0.5)
    assert [r["opcode"] for r in rows] == ["residual group"]                # the rule applies...
    assert weights(plain, 1).shape == (4, 3, 3, 4)
    model = residual_with_grouped(True)
    pruned, rows = prune.prune_neurons(model, 0.5)
    assert rows == []                                                       # ...but not across groups
    assert weights(pruned, 0).shape == (8, 3, 3, 3) and weights(pruned, 1).shape == (8, 3, 3, 4)
    xs = np.random.RandomState(13).randn(3, 1, 4, 4, 3).astype(np.float32)
    np.testing.assert_allclose(outputs(pruned, xs), outputs(model, xs))


def _aligned_groups_hold(w, m, n):
    """Whether every aligned group of m input channels (last axis) of every row and tap of the
    weights w holds at most n non-zero weights."""
    nz = (np.asarray(w) != 0).reshape(-1, w.shape[-1])
    nz = np.pad(nz, ((0, 0), (0, -w.shape[-1] % m)))
    return bool((nz.reshape(nz.shape[0], -1, m).sum(axis=2) <= n).all())


def test_a_pattern_keeps_its_spans_where_few_channels_would_go():
    """kws pruned 2:4: op 7's depthwise weights are all zero on 2 of its 64 channels, which fold
    into op 8's bias. Removing them from op 6, op 7 and op 8's inputs shifts op 8's groups of four
    inputs, and its weights no longer hold the 2:4 pattern the `nm` form needs; with the pattern's
    span (prune.pattern_span) channels go only in whole aligned spans, so none go here (2 of 64:
    fewer than 1/16), the pattern holds and the outputs are the pruned model's."""
    model = prune.prune_pattern(load_model(shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")), 0.0, "2:4")[0]
    full, full_rows = prune.drop_unread_channels(model)
    assert [(r["op"], r["units_after"], r["folded"]) for r in full_rows] == [(6, 62, 2)]
    assert not _aligned_groups_hold(full.tensors[full.ops[8].inputs[1]].data, 4, 2)
    assert prune.pattern_span("2:4") == 4 and prune.pattern_span("block4") is None
    kept, rows = prune.drop_unread_channels(model, prune.pattern_span("2:4"))
    assert rows == []
    for op in (2, 4, 6, 8):
        assert _aligned_groups_hold(kept.tensors[kept.ops[op].inputs[1]].data, 4, 2), op
    assert kept.tensors[kept.ops[8].inputs[1]].shape == (64, 1, 1, 64)
    rng = np.random.RandomState(3)
    for _ in range(5):
        x = rng.randint(-128, 128, (1, 49, 10, 1)).astype(np.int8)
        expected = Interpreter(model).invoke([x])[0]
        assert np.array_equal(Interpreter(kept).invoke([x])[0], expected)
        assert np.array_equal(Interpreter(full).invoke([x])[0], expected)
    # Pruned 1:4, a layer loses up to 11 of 64 channels: more than 1/16, so they go as before.
    quarter = prune.prune_pattern(load_model(shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")), 0.0, "1:4")[0]
    rows = prune.drop_unread_channels(quarter, prune.pattern_span("1:4"))[1]
    assert [(r["op"], r["units_after"]) for r in rows] == [(2, 59), (4, 56), (6, 53)]
