"""Float model import (scikit-learn), post-training quantization, pruning and --eval.

Expected values come from outside the code under test: scikit-learn's own predict_proba, the
TFLite quantization spec's rules, numpy forward passes written here, and TFLM's own int8 model
of the same network (pretrainedResnet_quant vs our quantization of pretrainedResnet).
"""

import glob
import pickle
import subprocess
import warnings

import numpy as np
import pytest

from conftest import TINYNET, shared_path
from tinynet_py import evaluate, prune
from tinynet_py.data import dequantize_output, quantize_input
from tinynet_py.ir import Model, Op, Tensor
from tinynet_py.quantize import activation_params, quantize_model
from tinynet_py.reference import Interpreter
from tinynet_py.sklearn_import import from_estimator

sklearn = pytest.importorskip("sklearn", reason="python3-sklearn is not installed")
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    order = np.random.RandomState(0).permutation(len(x))
    train, test = order[:1400], order[1400:]
    return x[train], data.target[train], x[test], data.target[test]


def fit(estimator, x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # ConvergenceWarning on purposely short training
        return estimator.fit(x, y)


@pytest.fixture(scope="module")
def mlp(digits):
    xt, yt, _, _ = digits
    return fit(MLPClassifier((32,), max_iter=300, random_state=0), xt, yt)


def run_float(model, xs):
    interpreter = Interpreter(model)
    return np.array([interpreter.invoke([x])[0].reshape(-1) for x in xs])


def run_int8(model, xs):
    interpreter = Interpreter(model)
    tin, tout = model.tensors[model.inputs[0]], model.tensors[model.outputs[0]]
    return np.array([dequantize_output(interpreter.invoke([quantize_input(x, tin)])[0], tout).reshape(-1)
                     for x in xs])


# ---- scikit-learn import -----------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_sklearn_classifier_matches_predict_proba(digits, activation):
    xt, yt, xs, _ = digits
    clf = fit(MLPClassifier((24, 12), activation=activation, max_iter=60, random_state=1), xt, yt)
    ours = run_float(from_estimator(clf), xs[:50])
    np.testing.assert_allclose(ours, clf.predict_proba(xs[:50]), atol=2e-6)


def test_sklearn_binary_classifier_and_regressor(digits):
    xt, yt, xs, _ = digits
    binary = fit(MLPClassifier((8,), max_iter=80, random_state=2), xt, yt % 2)
    ours = run_float(from_estimator(binary), xs[:40])
    assert ours.shape == (40, 1)
    np.testing.assert_allclose(ours[:, 0], binary.predict_proba(xs[:40])[:, 1], atol=2e-6)
    regressor = fit(MLPRegressor((16,), activation="tanh", max_iter=80, random_state=3), xt, yt / 9.0)
    ours = run_float(from_estimator(regressor), xs[:40])
    np.testing.assert_allclose(ours[:, 0], regressor.predict(xs[:40]), atol=2e-5)


def test_sklearn_pickle_errors(tmp_path):
    from sklearn.linear_model import LogisticRegression
    wrong = tmp_path / "logreg.pkl"
    wrong.write_bytes(pickle.dumps(fit(LogisticRegression(max_iter=50), np.eye(4), [0, 1, 0, 1])))
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"not a pickle at all")
    for path, needle in ((wrong, "LogisticRegression"), (garbage, "not a readable pickle")):
        out = tmp_path / "out.hpp"
        proc = subprocess.run([str(TINYNET), "convert", str(path), "-o", str(out)], capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert not out.exists()


# ---- post-training quantization ----------------------------------------------------------------

def test_activation_params_follow_tflite_nudging():
    # [-1, 3] over 255 steps; zero point -128 - (-1 / scale) = -64.25 -> -64.
    scale, zero_point = activation_params(-1.0, 3.0)
    assert scale == np.float32(4.0 / 255) and zero_point == -64
    # A range that excludes 0 is widened to contain it: [2, 5] -> [0, 5], zero point -128.
    scale, zero_point = activation_params(2.0, 5.0)
    assert scale == np.float32(5.0 / 255) and zero_point == -128
    # An all-negative range: 0 is the top, zero point 127.
    assert activation_params(-4.0, -1.0)[1] == 127


def test_quantized_mlp_follows_the_spec_and_keeps_accuracy(digits, mlp):
    xt, _, xs, ys = digits
    model = from_estimator(mlp)
    q = quantize_model(model, xt[:200])
    fc0 = q.ops[0]
    w, b = q.tensors[fc0.inputs[1]], q.tensors[fc0.inputs[2]]
    tin = q.tensors[fc0.inputs[0]]
    assert w.dtype == "int8" and np.all(w.zero_point == 0) and w.scale.size == w.shape[0]
    assert np.abs(w.data.astype(int)).max() == 127 and w.data.min() >= -127
    assert b.dtype == "int32"
    np.testing.assert_allclose(b.scale, tin.scale_scalar * w.scale, rtol=1e-6)
    # Each channel's largest weight maps onto +-127: scale = max|w| / 127.
    real = model.tensors[fc0.inputs[1]].data
    np.testing.assert_allclose(w.scale, np.abs(real).max(axis=1) / 127, rtol=1e-6)
    softmax_out = q.tensors[q.outputs[0]]
    assert softmax_out.scale_scalar == np.float32(1 / 256) and softmax_out.zero_point_scalar == -128
    # The input's range is what the calibration data spans, [0, 1].
    assert tin.scale_scalar == np.float32(1 / 255) and tin.zero_point_scalar == -128
    float_accuracy = (mlp.predict(xs) == ys).mean()
    int8_accuracy = (run_int8(q, xs).argmax(axis=1) == ys).mean()
    assert float_accuracy > 0.95
    assert int8_accuracy >= float_accuracy - 0.01


def test_quantizing_resnet_agrees_with_the_float_model_like_tflite_does():
    """pretrainedResnet (float) quantized by us vs by the TFLite converter (pretrainedResnet_quant):
    on the golden images ours agrees with the float model's top-1 at least as often as theirs."""
    from tinynet_py.tflite import load_model
    float_model = load_model(shared_path("models", "mlperf-tiny", "pretrainedResnet.tflite"))
    theirs = load_model(shared_path("models", "mlperf-tiny", "pretrainedResnet_quant.tflite"))
    files = sorted(glob.glob(str(shared_path("golden", "pretrainedResnet") / "in_*.bin")))
    xs = np.array([np.fromfile(f, np.float32) for f in files])
    ours = quantize_model(float_model, xs)
    reference = run_float(float_model, xs).argmax(axis=1)
    ours_top = run_int8(ours, xs).argmax(axis=1)
    theirs_top = run_int8(theirs, xs).argmax(axis=1)
    assert (ours_top == reference).sum() >= (theirs_top == reference).sum()
    # Ops whose int8 kernels do not rescale share their input's parameters (TFLM requirement).
    for op in ours.ops:
        if op.opcode in ("AVERAGE_POOL_2D", "RESHAPE"):
            a, b = ours.tensors[op.inputs[0]], ours.tensors[op.outputs[0]]
            assert (a.scale_scalar, a.zero_point_scalar) == (b.scale_scalar, b.zero_point_scalar)


def test_quantize_refuses_an_int8_model(tmp_path):
    model = shared_path("models", "mlperf-tiny", "ad01_int8.tflite")
    calib = tmp_path / "calib.npz"
    np.savez(calib, x=np.zeros((4, 640), np.float32))
    proc = subprocess.run([str(TINYNET), "convert", str(model), "--quantize", str(calib), "-o",
                           str(tmp_path / "o.hpp")], capture_output=True, text=True)
    assert proc.returncode != 0 and "float32 model" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "o.hpp").exists()


def test_quantizing_a_hybrid_model_starts_from_the_real_weights():
    """A hybrid layer's int8 weights (float activations; TFLite's dynamic-range quantization) are
    quantized from their real values q * scale: each channel's largest |q| being 127, the int8
    model keeps the same codes and the same per-channel scales."""
    import synthetic_models as sm
    from tinynet_py.tflite import parse_model
    codes = np.array([[127, -3, 40, 0], [-127, 5, 6, -7], [1, 127, -2, 3]], np.int8)
    scales = np.array([0.01, 0.02, 0.005], np.float32)
    g = sm.Graph()
    x = g.f32((1, 4))
    w = g.const(codes, "int8", scales, [0, 0, 0], qdim=0)
    bias = g.const(np.array([0.5, -0.25, 0.0], np.float32), "float32")
    y = g.f32((1, 3))
    g.op("FULLY_CONNECTED", [x, w, bias], [y], sm.OPT["FULLY_CONNECTED"], sm.b.T(f0=("int8", 0)))
    hybrid = parse_model(g.build([x], [y]), "hybrid_fc.tflite")
    quantized = quantize_model(hybrid, np.random.default_rng(1).uniform(-2, 2, (16, 1, 4)).astype(np.float32))
    weights = quantized.tensors[quantized.ops[0].inputs[1]]
    assert np.array_equal(weights.data, codes)
    assert np.array_equal(weights.scale, scales)


# ---- pruning ------------------------------------------------------------------------------------

def _tensor(tensors, shape, data=None, name=None):
    t = Tensor(index=len(tensors), name=name or f"t{len(tensors)}", shape=tuple(shape), dtype="float32",
               data=None if data is None else np.asarray(data, np.float32))
    tensors.append(t)
    return t.index


def cnn_with_dead_channels(seed=0):
    """conv(8 ch, 2 dead) -> relu -> maxpool -> depthwise -> conv(6, 1 dead) -> reshape -> FC(4).
    Dead channels have all-zero weights and bias, so they are the ones of smallest norm and
    removing them must not change any output."""
    rng = np.random.RandomState(seed)
    tensors, ops = [], []
    x = _tensor(tensors, (1, 6, 6, 2))
    w1 = rng.randn(8, 3, 3, 2)
    b1 = rng.randn(8) * 0.1
    w1[[2, 5]] = 0
    b1[[2, 5]] = 0
    c1 = _tensor(tensors, (1, 6, 6, 8))
    ops.append(Op(0, "CONV_2D", [x, _tensor(tensors, w1.shape, w1), _tensor(tensors, (8,), b1)], [c1],
                  {"padding": "SAME", "stride_w": 1, "stride_h": 1, "fused_activation_function": "RELU",
                   "dilation_w_factor": 1, "dilation_h_factor": 1}))
    p1 = _tensor(tensors, (1, 3, 3, 8))
    ops.append(Op(1, "MAX_POOL_2D", [c1], [p1], {"padding": "VALID", "stride_w": 2, "stride_h": 2,
                                                  "filter_width": 2, "filter_height": 2,
                                                  "fused_activation_function": "NONE"}))
    wd = rng.randn(1, 3, 3, 8)
    bd = rng.randn(8) * 0.1
    bd[[2, 5]] = 0
    d1 = _tensor(tensors, (1, 3, 3, 8))
    ops.append(Op(2, "DEPTHWISE_CONV_2D", [p1, _tensor(tensors, wd.shape, wd), _tensor(tensors, (8,), bd)], [d1],
                  {"padding": "SAME", "stride_w": 1, "stride_h": 1, "depth_multiplier": 1,
                   "fused_activation_function": "RELU", "dilation_w_factor": 1, "dilation_h_factor": 1}))
    w2 = rng.randn(6, 1, 1, 8)
    b2 = rng.randn(6) * 0.1
    w2[4] = 0
    b2[4] = 0
    c2 = _tensor(tensors, (1, 3, 3, 6))
    ops.append(Op(3, "CONV_2D", [d1, _tensor(tensors, w2.shape, w2), _tensor(tensors, (6,), b2)], [c2],
                  {"padding": "VALID", "stride_w": 1, "stride_h": 1, "fused_activation_function": "RELU",
                   "dilation_w_factor": 1, "dilation_h_factor": 1}))
    flat = _tensor(tensors, (1, 54))
    ops.append(Op(4, "RESHAPE", [c2, _tensor(tensors, (2,), [1, 54])], [flat], {"new_shape": [1, 54]}))
    tensors[ops[4].inputs[1]].dtype = "int32"
    tensors[ops[4].inputs[1]].data = np.array([1, 54], np.int32)
    wf = rng.randn(4, 54)
    out = _tensor(tensors, (1, 4))
    ops.append(Op(5, "FULLY_CONNECTED", [flat, _tensor(tensors, wf.shape, wf), _tensor(tensors, (4,), rng.randn(4))],
                  [out], {"fused_activation_function": "NONE", "weights_format": 0, "keep_num_dims": False}))
    return Model(path="<cnn>", sha256="", tensors=tensors, ops=ops, inputs=[x], outputs=[out])


def test_prune_neurons_removes_dead_channels_without_changing_outputs():
    model = cnn_with_dead_channels()
    # conv1 has 8 channels: 0.25 drops 2 (the dead ones); conv2 has 6: 0.25 drops 1 (the dead one).
    pruned, rows = prune.prune_neurons(model, 0.25)
    assert [(r["opcode"], r["units_before"], r["units_after"]) for r in rows] == [
        ("CONV_2D", 8, 6), ("CONV_2D", 6, 5)]
    assert pruned.tensors[pruned.ops[2].inputs[1]].shape == (1, 3, 3, 6)      # depthwise shrank too
    assert pruned.tensors[pruned.ops[5].inputs[1]].shape == (4, 45)           # FC lost 9 columns
    xs = np.random.RandomState(5).randn(6, 72).astype(np.float32)
    np.testing.assert_allclose(run_float(pruned, xs), run_float(model, xs), rtol=1e-5, atol=1e-5)
    assert model.tensors[model.ops[5].inputs[1]].shape == (4, 54)            # input left alone


def test_prune_neurons_on_an_int8_model_keeps_per_channel_scales_aligned(digits, mlp):
    xt, _, xs, _ = digits
    q = quantize_model(from_estimator(mlp), xt[:200])
    pruned, rows = prune.prune_neurons(q, 0.5)
    assert rows and rows[0]["units_after"] == 16
    w = pruned.tensors[pruned.ops[0].inputs[1]]
    assert w.shape == (16, 64) and w.scale.size == 16
    # Keeping the kept channels' weights and scales together: a kept row dequantizes as before.
    original = q.tensors[q.ops[0].inputs[1]]
    norms = np.sqrt(((original.data.astype(float) * original.scale[:, None]) ** 2).sum(axis=1))
    kept = np.sort(np.argsort(norms, kind="stable")[16:])
    np.testing.assert_array_equal(w.data, original.data[kept])
    np.testing.assert_array_equal(w.scale, original.scale[kept])
    Interpreter(pruned)


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_prune_synapses_per_layer_and_global(digits, mlp, fraction):
    model = from_estimator(mlp)
    pruned, rows = prune.prune_synapses(model, fraction, "layer")
    for op, row in zip([o for o in pruned.ops if o.opcode == "FULLY_CONNECTED"], rows):
        w = pruned.tensors[op.inputs[1]].data
        assert np.count_nonzero(w) == w.size - int(np.floor(fraction * w.size)) == row["nonzero_after"]
        # the weights that remain are the largest ones of the original layer
        original = model.tensors[op.inputs[1]].data
        assert np.abs(original[w == 0]).max() <= np.abs(original[w != 0]).min()
    pruned, _ = prune.prune_synapses(model, fraction, "global")
    weights = [pruned.tensors[o.inputs[1]].data for o in pruned.ops if o.opcode == "FULLY_CONNECTED"]
    originals = [model.tensors[o.inputs[1]].data for o in model.ops if o.opcode == "FULLY_CONNECTED"]
    dropped = np.concatenate([np.abs(o[w == 0]) for o, w in zip(originals, weights)])
    kept = np.concatenate([np.abs(o[w != 0]) for o, w in zip(originals, weights)])
    assert dropped.max() <= kept.min()
    total = sum(w.size for w in weights)
    assert abs(dropped.size - fraction * total) <= 1


def test_prune_fraction_is_checked(tmp_path):
    proc = subprocess.run([str(TINYNET), "convert", str(shared_path("models", "mlperf-tiny", "ad01_int8.tflite")),
                           "--prune-synapses", "1.5", "-o", str(tmp_path / "o.hpp")], capture_output=True, text=True)
    assert proc.returncode != 0 and "--prune-synapses" in proc.stderr and len(proc.stderr.splitlines()) == 1


# ---- --eval ---------------------------------------------------------------------------------------

def test_evaluate_reports_accuracy_per_class_and_flags_the_classes_that_lose_most(digits, mlp):
    _, _, xs, ys = digits
    model = from_estimator(mlp)
    report = evaluate.evaluate([("float", model)], xs, ys)
    predicted = mlp.predict(xs)
    assert report["variants"][0]["accuracy"] == pytest.approx((predicted == ys).mean())
    for c in range(10):
        assert report["variants"][0]["per_class"][c] == pytest.approx((predicted[ys == c] == c).mean())
    # A variant that is always wrong on class 3 only: class 3 is flagged, no other is.
    broken = prune.prune_synapses(model, 0.0)[0]
    last = [o for o in broken.ops if o.opcode == "FULLY_CONNECTED"][-1]
    broken.tensors[last.inputs[2]].data[3] = -1e6
    report = evaluate.evaluate([("float", model), ("broken", broken)], xs, ys)
    assert report["variants"][1]["flagged_classes"] == [3]
    text = evaluate.format_report(report)
    assert "classes [3] lose clearly more than the average" in text


def test_cli_convert_quantize_prune_eval_end_to_end(tmp_path, digits, mlp):
    """The digits MLP through the CLI; the generated header runs on the host and gives the bytes
    of the numpy reference for the same compressed model."""
    xt, _, xs, ys = digits
    model_path = tmp_path / "mlp.pkl"
    model_path.write_bytes(pickle.dumps(mlp))
    np.savez(tmp_path / "calib.npz", x=xt[:200])
    np.savez(tmp_path / "test.npz", x=xs, y=ys)
    header = tmp_path / "mlp.hpp"
    proc = subprocess.run([str(TINYNET), "convert", str(model_path), "--quantize", str(tmp_path / "calib.npz"),
                           "--prune-synapses", "0.5", "--eval", str(tmp_path / "test.npz"), "-o", str(header)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "accuracy on 397 samples: float" in proc.stdout and "pruned-int8" in proc.stdout
    assert header.exists()
    sample = quantize_input(xs[0], _first_input(tmp_path))
    sample.tofile(tmp_path / "in.bin")
    run = subprocess.run([str(TINYNET), "run", str(model_path), "--quantize", str(tmp_path / "calib.npz"),
                          "--prune-synapses", "0.5", "--input", str(tmp_path / "in.bin"), "--output",
                          str(tmp_path / "out.bin")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    from tinynet_py.quantize import quantize_model as qm
    pruned = prune.prune_synapses(from_estimator(mlp), 0.5)[0]
    expected = Interpreter(qm(pruned, xt[:200])).invoke([sample])[0].reshape(-1)
    np.testing.assert_array_equal(np.fromfile(tmp_path / "out.bin", np.int8), expected)


def _first_input(tmp_path):
    from tinynet_py.pipeline import load_any
    from tinynet_py.quantize import load_samples, quantize_model as qm
    model = load_any(tmp_path / "mlp.pkl")
    q = qm(model, load_samples(tmp_path / "calib.npz", model))
    return q.tensors[q.inputs[0]]


def test_help_lists_the_compression_flags():
    for command in ("convert", "run", "bench", "inspect"):
        text = subprocess.run([str(TINYNET), command, "--help"], capture_output=True, text=True).stdout
        for flag in ("--quantize", "--prune-synapses", "--prune-neurons", "--sparse", "--eval"):
            assert flag in text, (command, flag)


# ---- .tflite writer ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["kws_ref_model.tflite", "pretrainedResnet.tflite", "ad01_int8.tflite"])
def test_written_tflite_reads_back_identically(name):
    from tinynet_py.tflite import load_model, parse_model
    from tinynet_py.tflite_writer import write_model
    model = load_model(shared_path("models", "mlperf-tiny", name))
    again = parse_model(write_model(model), name)
    assert [(o.opcode, o.inputs, o.outputs, o.options) for o in again.ops] == \
           [(o.opcode, o.inputs, o.outputs, o.options) for o in model.ops]
    for a, b in zip(model.tensors, again.tensors):
        assert (a.shape, a.dtype, a.quantized_dimension) == (b.shape, b.dtype, b.quantized_dimension)
        np.testing.assert_array_equal(a.scale, b.scale)
        np.testing.assert_array_equal(a.zero_point, b.zero_point)
        assert (a.data is None) == (b.data is None)
        if a.data is not None:
            np.testing.assert_array_equal(a.data, b.data)


def test_save_tflite_of_a_quantized_model_runs_the_same(tmp_path, digits, mlp):
    xt, _, xs, _ = digits
    (tmp_path / "mlp.pkl").write_bytes(pickle.dumps(mlp))
    np.savez(tmp_path / "calib.npz", x=xt[:200])
    saved = tmp_path / "mlp_int8.tflite"
    proc = subprocess.run([str(TINYNET), "inspect", str(tmp_path / "mlp.pkl"), "--quantize",
                           str(tmp_path / "calib.npz"), "--save-tflite", str(saved)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    from tinynet_py.tflite import load_model
    written = load_model(saved)
    assert written.tensors[written.inputs[0]].dtype == "int8"
    direct = quantize_model(from_estimator(mlp), xt[:200])
    np.testing.assert_array_equal(run_int8(written, xs[:20]), run_int8(direct, xs[:20]))


# ---- what an unrolled RNN asks of the quantizer (examples/gru) ----------------------------------

def _float_model(tensors, ops, inputs, outputs):
    return Model(path="rnn.tflite", sha256="", tensors=tensors, ops=ops, inputs=inputs, outputs=outputs)


def test_constant_operands_of_add_sub_mul_are_quantized_over_their_own_range():
    """1 - x (SUB from a scalar constant), * g and + c (constant vectors), as a GRU's 1 - z and its
    folded zero-state projection: each constant becomes int8 per tensor over its own range widened
    to contain 0 (the TFLite quantizer's rule), and the int8 model follows the float one."""
    rng = np.random.RandomState(0)
    tensors = []
    x = _tensor(tensors, (1, 8))
    one = _tensor(tensors, (), np.float32(1.0), "one")
    gain = _tensor(tensors, (1, 8), rng.uniform(0.5, 2.0, (1, 8)), "gain")
    offset = _tensor(tensors, (8,), rng.uniform(-1.0, 0.5, 8), "offset")
    a, b, c = _tensor(tensors, (1, 8)), _tensor(tensors, (1, 8)), _tensor(tensors, (1, 8))
    none = {"fused_activation_function": "NONE"}
    ops = [Op(0, "SUB", [one, x], [a], dict(none)), Op(1, "MUL", [a, gain], [b], dict(none)),
           Op(2, "ADD", [offset, b], [c], dict(none))]
    model = _float_model(tensors, ops, [x], [c])
    xs = rng.uniform(-1, 1, (100, 8)).astype(np.float32)
    q = quantize_model(model, xs)
    for index in (one, gain, offset):
        real, t = model.tensors[index].data, q.tensors[index]
        scale, zero_point = activation_params(real.min(), real.max())
        assert t.dtype == "int8" and t.scale_scalar == scale and t.zero_point_scalar == zero_point
        np.testing.assert_allclose((t.data.astype(np.float64) - zero_point) * scale, real, atol=scale / 2 + 1e-7)
    assert q.tensors[one].data.item() == 127                  # 1.0 over [0, 1]: the top code, exact
    # On the calibration samples (no value outside the calibrated ranges): rounding only.
    out_scale = q.tensors[c].scale_scalar
    error = np.abs(run_int8(q, xs) - run_float(model, xs))
    assert error.max() <= 3 * out_scale, error.max() / out_scale


def test_a_bias_shared_by_layers_with_other_input_scales_gets_one_int32_copy_per_layer():
    """Two FULLY_CONNECTED layers read the same weights and bias (an RNN's recurrent projection,
    once per step), their inputs on different scales: each layer's int32 bias must be on its own
    input scale x weight scale, so the shared float bias becomes one copy per layer (the weights,
    quantized from their values alone, stay one tensor)."""
    rng = np.random.RandomState(1)
    tensors = []
    x = _tensor(tensors, (1, 6))
    w = _tensor(tensors, (6, 6), rng.randn(6, 6) * 0.5, "w")
    bias = _tensor(tensors, (6,), rng.uniform(2.0, 4.0, 6), "b")        # large: a wrong scale shows
    four = _tensor(tensors, (), np.float32(4.0), "four")
    h1, h2, h3 = _tensor(tensors, (1, 6)), _tensor(tensors, (1, 6)), _tensor(tensors, (1, 6))
    fc = {"fused_activation_function": "NONE", "weights_format": 0, "keep_num_dims": False}
    ops = [Op(0, "FULLY_CONNECTED", [x, w, bias], [h1], dict(fc)),
           Op(1, "MUL", [h1, four], [h2], {"fused_activation_function": "NONE"}),
           Op(2, "FULLY_CONNECTED", [h2, w, bias], [h3], dict(fc))]
    model = _float_model(tensors, ops, [x], [h3])
    xs = rng.uniform(-1, 1, (100, 6)).astype(np.float32)
    q = quantize_model(model, xs)
    first, second = q.ops[0], q.ops[2]
    assert first.inputs[1] == second.inputs[1]                              # one weight tensor
    assert first.inputs[2] != second.inputs[2]                              # two biases
    weight_scale = q.tensors[first.inputs[1]].scale.astype(np.float64)
    for fc_op in (first, second):
        b = q.tensors[fc_op.inputs[2]]
        input_scale = np.float64(q.tensors[fc_op.inputs[0]].scale_scalar)
        np.testing.assert_allclose(b.scale, input_scale * weight_scale, rtol=1e-6)
        np.testing.assert_allclose(b.data * b.scale.astype(np.float64), model.tensors[bias].data,
                                   atol=float(b.scale.max()))
    out_scale = q.tensors[h3].scale_scalar                 # on the calibration samples, as above
    error = np.abs(run_int8(q, xs) - run_float(model, xs))
    assert error.max() <= 4 * out_scale, error.max() / out_scale
    # In the header: one weights array and one scales array that both layers name, a bias each.
    import re
    from tinynet_py.emit import generate_header
    header = generate_header(q, "rnn")
    layers = re.findall(r"tinynet::FullyConnected<\w+, \w+, (\w+), (\w+), (\w+),", header)
    assert len(layers) == 2
    (w1, b1, s1), (w2, b2, s2) = layers
    assert w1 == w2 and s1 == s2 and b1 != b2
    assert len(re.findall(r"std::int8_t op\d+_fully_connected_weights\[", header)) == 1
    assert len(re.findall(r"std::int32_t op\d+_fully_connected_bias\[", header)) == 2
