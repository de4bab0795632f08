"""Data at the model's boundary (tinynet_py/data.py), through `tinynet run/inspect/convert`:
ONNX NCHW data transposed for the NHWC C++ network, data of neither layout refused, float data
quantized for int8 models and outputs dequantized. The expected numbers come from a float
NCHW numpy forward pass written here (no tinynet code)."""

import subprocess

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from conftest import TINYNET  # noqa: E402
from tinynet_py import evaluate, quantize  # noqa: E402
from tinynet_py.errors import UsageError  # noqa: E402
from tinynet_py.onnx_import import load_onnx  # noqa: E402

RNG = np.random.default_rng(1812)


def conv_nchw(x, w, b):
    """3x3 convolution, stride 1, zero padding 1, NCHW, float64."""
    n, c, h, wd = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for ky in range(3):
        for kx in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, ky:ky + h, kx:kx + wd], w[:, :, ky, kx])
    return out + b.reshape(1, -1, 1, 1)


def make_model(path, c, h, w, out_c=4, head=False):
    """Conv 3x3 (+ Relu, GlobalAveragePool, Flatten, Gemm when `head`), input [1, c, h, w]."""
    wc = (RNG.normal(size=(out_c, c, 3, 3)) * 0.3).astype(np.float32)
    bc = (RNG.normal(size=out_c) * 0.1).astype(np.float32)
    inits = [numpy_helper.from_array(wc, "w"), numpy_helper.from_array(bc, "b")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["conv" if head else "y"], pads=[1, 1, 1, 1],
                              kernel_shape=[3, 3])]
    params = {"w": wc, "b": bc}
    if head:
        wg = (RNG.normal(size=(3, out_c)) * 0.5).astype(np.float32)
        bg = np.array([0.1, -0.2, 0.05], np.float32)
        inits += [numpy_helper.from_array(wg, "wg"), numpy_helper.from_array(bg, "bg")]
        nodes += [helper.make_node("Relu", ["conv"], ["r"]),
                  helper.make_node("GlobalAveragePool", ["r"], ["p"]),
                  helper.make_node("Flatten", ["p"], ["f"]),
                  helper.make_node("Gemm", ["f", "wg", "bg"], ["y"], transB=1)]
        params.update(wg=wg, bg=bg)
        out_shape = [1, 3]
    else:
        out_shape = [1, out_c, h, w]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, h, w])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return params


def forward(params, x):
    y = conv_nchw(x, params["w"], params["b"])
    if "wg" in params:
        pooled = np.maximum(y, 0).mean(axis=(2, 3))
        y = pooled @ params["wg"].T.astype(np.float64) + params["bg"]
    return y


def tinynet(*args, check=True):
    proc = subprocess.run([str(TINYNET), *map(str, args)], capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def conv_model(tmp_path_factory):
    """Rank-4 input and output, C != H: [1, 3, 6, 5] -> [1, 4, 6, 5]."""
    folder = tmp_path_factory.mktemp("conv")
    params = make_model(folder / "pt.onnx", 3, 6, 5)
    x = RNG.normal(size=(1, 3, 6, 5)).astype(np.float32)
    return folder, params, x


def test_nchw_input_and_output_match_the_float_model(conv_model):
    folder, params, x = conv_model
    np.save(folder / "in.npy", x)
    tinynet("run", folder / "pt.onnx", "--input", folder / "in.npy", "--output", folder / "out.npy")
    got = np.load(folder / "out.npy")
    want = forward(params, x)
    assert got.shape == (1, 4, 6, 5)                  # written in the layout it was given in
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # The same data given NHWC (the C++ layout) gives the same numbers, written NHWC.
    np.save(folder / "in_nhwc.npy", x.transpose(0, 2, 3, 1))
    tinynet("run", folder / "pt.onnx", "--input", folder / "in_nhwc.npy", "--output", folder / "out_nhwc.npy")
    got_nhwc = np.load(folder / "out_nhwc.npy")
    assert got_nhwc.shape == (1, 6, 5, 4)
    np.testing.assert_allclose(got_nhwc.transpose(0, 3, 1, 2), want, rtol=1e-4, atol=1e-4)
    # Without the batch dimension, too.
    np.save(folder / "in_chw.npy", x[0])
    tinynet("run", folder / "pt.onnx", "--input", folder / "in_chw.npy", "--output", folder / "out_chw.npy")
    np.testing.assert_allclose(np.load(folder / "out_chw.npy"), want, rtol=1e-4, atol=1e-4)


def test_data_of_neither_layout_is_refused(conv_model):
    folder, _, x = conv_model
    np.save(folder / "flat.npy", x.reshape(-1))
    proc = tinynet("run", folder / "pt.onnx", "--input", folder / "flat.npy", "--output", folder / "o.npy",
                   check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("tinynet: error: ") and "ONNX NCHW [1,3,6,5]" in lines[-1] \
        and "C++ NHWC [1,6,5,3]" in lines[-1], proc.stderr
    proc = tinynet("run", folder / "pt.onnx", "--input", folder / "in.npy", "--output", folder / "o.npy",
                   "--data-layout", "nhwc", check=False)
    assert proc.returncode == 2 and "expected C++ NHWC [1,6,5,3]" in proc.stderr


def test_inspect_and_convert_name_both_layouts(conv_model):
    folder, _, _ = conv_model
    want_in = "input 'x': ONNX NCHW [1,3,6,5], C++ NHWC [1,6,5,3]"
    want_out = "output 'y': ONNX NCHW [1,4,6,5], C++ NHWC [1,6,5,4]"
    shown = tinynet("inspect", folder / "pt.onnx").stdout
    assert want_in in shown and want_out in shown
    converted = tinynet("convert", folder / "pt.onnx", "-o", folder / "pt.hpp")
    assert want_in in converted.stdout
    header = (folder / "pt.hpp").read_text()
    assert want_in in header and want_out in header


def test_ambiguous_shape_is_read_as_nchw_unless_told(tmp_path):
    """C == H == W: the ONNX layout wins; --data-layout nhwc reads the same file as NHWC."""
    params = make_model(tmp_path / "cube.onnx", 4, 4, 4, out_c=3, head=True)
    x = RNG.normal(size=(1, 4, 4, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    tinynet("run", tmp_path / "cube.onnx", "--input", tmp_path / "x.npy", "--output", tmp_path / "a.npy")
    np.testing.assert_allclose(np.load(tmp_path / "a.npy"), forward(params, x), rtol=1e-4, atol=1e-5)
    tinynet("run", tmp_path / "cube.onnx", "--input", tmp_path / "x.npy", "--output", tmp_path / "b.npy",
            "--data-layout", "nhwc")
    as_nhwc = x.transpose(0, 3, 1, 2)      # the file's values, read as [N, H, W, C]
    np.testing.assert_allclose(np.load(tmp_path / "b.npy"), forward(params, as_nhwc), rtol=1e-4, atol=1e-5)


def test_calibration_and_eval_samples_are_transposed(tmp_path):
    make_model(tmp_path / "m.onnx", 3, 6, 5, head=True)
    model = load_onnx(tmp_path / "m.onnx")
    xs = RNG.normal(size=(7, 3, 6, 5)).astype(np.float32)
    np.savez(tmp_path / "nchw.npz", x=xs, y=np.arange(7))
    np.savez(tmp_path / "nhwc.npz", x=xs.transpose(0, 2, 3, 1), y=np.arange(7))
    np.savez(tmp_path / "flat.npz", x=xs.reshape(7, -1), y=np.arange(7))
    want = xs.transpose(0, 2, 3, 1).reshape(7, -1)
    np.testing.assert_array_equal(quantize.load_samples(tmp_path / "nchw.npz", model), want)
    np.testing.assert_array_equal(quantize.load_samples(tmp_path / "nhwc.npz", model), want)
    x, y, layout = evaluate.load_labelled(tmp_path / "nchw.npz", model)
    np.testing.assert_array_equal(x, want)
    assert layout == "nchw"
    with pytest.raises(UsageError, match=r"ONNX NCHW \[1,3,6,5\] or C\+\+ NHWC \[1,6,5,3\]"):
        quantize.load_samples(tmp_path / "flat.npz", model)


def test_float_in_float_out_on_a_quantized_model(tmp_path):
    params = make_model(tmp_path / "cnn.onnx", 3, 6, 5, head=True)
    calib = RNG.normal(size=(64, 3, 6, 5)).astype(np.float32)
    np.savez(tmp_path / "calib.npz", x=calib)
    x = calib[:1]
    np.save(tmp_path / "in.npy", x)
    quant = ("--quantize", tmp_path / "calib.npz")
    tinynet("run", tmp_path / "cnn.onnx", *quant, "--input", tmp_path / "in.npy", "--output", tmp_path / "out.npy")
    got = np.load(tmp_path / "out.npy")
    assert got.dtype == np.float32
    # int8 all the way: within a few output steps of the float model
    want = forward(params, x)
    assert np.abs(got - want).max() < 0.1 * max(1.0, np.abs(want).max()), (got, want)
    tinynet("run", tmp_path / "cnn.onnx", *quant, "--input", tmp_path / "in.npy", "--output", tmp_path / "raw.npy",
            "--raw-output")
    raw = np.load(tmp_path / "raw.npy")
    assert raw.dtype == np.int8
    # the float output is the raw one dequantized: its steps are one scale apart
    steps = np.round((got - got.min()) / (np.float32(got.max() - got.min()) / max(1, int(raw.max()) - int(raw.min()))))
    np.testing.assert_array_equal(steps, raw.astype(np.int64) - raw.min())
    # wrong integer type: refused, naming the scale and zero point
    np.save(tmp_path / "in16.npy", x.astype(np.int16))
    proc = tinynet("run", tmp_path / "cnn.onnx", *quant, "--input", tmp_path / "in16.npy", "--output",
                   tmp_path / "o.npy", check=False)
    assert proc.returncode == 2
    assert "holds int16" in proc.stderr and "scale " in proc.stderr and "zero point " in proc.stderr, proc.stderr
