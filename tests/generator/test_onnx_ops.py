"""ONNX operators the importer maps onto registry ops (tinynet_py/onnx_import/translators.py):
each model is built here with onnx.helper and its float result compared with a numpy
computation written here (no importer code); the translator table is checked against the op
registry, `inspect --help` and the README; one model of the new ops is compiled to C++ and run."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from tinynet_py import emit, ops, runner  # noqa: E402
from tinynet_py.onnx_import import SUPPORTED_ONNX_OPS, load_onnx, passes, translators  # noqa: E402
from tinynet_py.reference import Interpreter  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RNG = np.random.default_rng(20261203)


class Graph:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def const(self, array, dtype=np.float32):
        self.count += 1
        name = f"c{self.count}"
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype), name))
        return name, np.asarray(array, dtype)

    def node(self, op, inputs, n_out=1, **attrs):
        self.count += 1
        outs = [f"v{self.count}_{k}" for k in range(n_out)]
        self.nodes.append(helper.make_node(op, list(inputs), outs, name=f"{op.lower()}{self.count}", **attrs))
        return outs[0] if n_out == 1 else outs

    def model(self, inputs, outputs, opset=13):
        graph = helper.make_graph(
            self.nodes, "test", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
            initializer=self.inits)
        m = helper.make_model(graph, producer_name="tinynet-test", opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        return m


def _nhwc(a):
    return a.transpose(0, 2, 3, 1) if a.ndim == 4 else a


def check(tmp_path, model, x, expected, uses):
    """Imports `model`, runs the reference interpreter on x (ONNX layout) and compares every
    output with `expected` (ONNX layout; 4-D ones are produced NHWC); the IR must contain the
    registry ops `uses`.  Returns the ir.Model."""
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    ir = load_onnx(path)
    assert set(uses) <= {op.opcode for op in ir.ops}, [op.opcode for op in ir.ops]
    stored = _nhwc(x) if ir.inputs[0] in ir.nchw_shapes else x
    got = Interpreter(ir).invoke([stored.astype(np.float32)])
    assert len(got) == len(expected)
    for index, g, e in zip(ir.outputs, got, expected):
        e = np.asarray(e, np.float64)
        e = _nhwc(e) if index in ir.nchw_shapes else e        # 4-D maps are produced NHWC
        assert g.shape == e.shape, (g.shape, e.shape)
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)
    return ir


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


X4 = RNG.normal(0, 1, (1, 4, 6, 6)).astype(np.float32)


# ---- element-wise ---------------------------------------------------------------------------------

def test_mul_of_computed_tensors_swish_and_squeeze_excitation(tmp_path):
    g = Graph()
    swish = g.node("Mul", ["x", g.node("Sigmoid", ["x"])])
    scale = g.node("Sigmoid", [g.node("GlobalAveragePool", [swish])])
    y = g.node("Mul", [swish, scale])                       # [1,4,6,6] * [1,4,1,1]
    s = X4 * sigmoid(X4)
    expected = s * sigmoid(s.mean(axis=(2, 3), keepdims=True))
    ir = check(tmp_path, g.model([("x", X4.shape)], [y]), X4, [expected], ["MUL"])
    assert [op.opcode for op in ir.ops].count("MUL") == 2


def test_div_max_min_abs_neg_and_constants(tmp_path):
    g = Graph()
    one, _ = g.const(1.0)
    half, _ = g.const(0.5)
    full, full_value = g.const(RNG.normal(0, 1, (1, 4, 6, 6)))   # not per channel: MUL by a constant
    soft = g.node("Div", ["x", g.node("Add", [g.node("Abs", ["x"]), one])])
    both = g.node("Max", [soft, g.node("Neg", [soft])])
    y = g.node("Mul", [g.node("Min", [both, half]), full])
    s = X4 / (np.abs(X4) + 1)
    expected = np.minimum(np.maximum(s, -s), 0.5) * full_value
    check(tmp_path, g.model([("x", X4.shape)], [y]), X4, [expected],
          ["DIV", "ABS", "NEG", "MAXIMUM", "MINIMUM", "MUL"])


def test_exp_log_sqrt(tmp_path):
    g = Graph()
    one, _ = g.const(1.0)
    pos = g.node("Add", [g.node("Abs", ["x"]), one])
    y = g.node("Add", [g.node("Log", [pos]), g.node("Sqrt", [pos])])
    z = g.node("Exp", [g.node("Neg", [pos])])
    x = RNG.normal(0, 1, (1, 10)).astype(np.float32)
    p = np.abs(x) + 1
    check(tmp_path, g.model([("x", x.shape)], [y, z]), x, [np.log(p) + np.sqrt(p), np.exp(-p)],
          ["LOG", "SQRT", "EXP"])


def test_activations_hardswish_elu_prelu(tmp_path):
    g = Graph()
    slope, slope_value = g.const(RNG.uniform(0.05, 0.3, (4, 1, 1)))
    h = g.node("HardSwish", ["x"])
    h = g.node("PRelu", [g.node("Sub", [h, g.const(0.4)[0]]), slope])
    y = g.node("Elu", [h])
    x = X4 * 4
    h = x * np.clip(x + 3, 0, 6) / 6 - 0.4
    h = np.where(h < 0, slope_value.reshape(1, 4, 1, 1) * h, h)
    expected = np.where(h > 0, h, np.exp(h) - 1)
    check(tmp_path, g.model([("x", x.shape)], [y]), x, [expected], ["HARD_SWISH", "PRELU", "ELU"])


# ---- layout -----------------------------------------------------------------------------------------

def test_transpose_moves_data_where_a_relabel_cannot(tmp_path):
    # A transposed 3-D graph output, and a softmax over W of an NCHW map (stored NHWC).
    g = Graph()
    y = g.node("Transpose", ["x"], perm=[0, 2, 1])
    x = RNG.normal(0, 1, (1, 6, 8)).astype(np.float32)
    ir = check(tmp_path, g.model([("x", x.shape)], [y]), x, [x.transpose(0, 2, 1)], ["TRANSPOSE"])
    assert ir.tensors[ir.outputs[0]].shape == (1, 8, 6)
    g = Graph()
    y = g.node("Softmax", ["x"], axis=-1)
    e = np.exp(X4 - X4.max(axis=-1, keepdims=True))
    check(tmp_path, g.model([("x", X4.shape)], [y]), X4, [e / e.sum(axis=-1, keepdims=True)], ["TRANSPOSE"])


def test_flattened_feature_map_as_graph_output(tmp_path):
    g = Graph()
    w, w_value = g.const(RNG.normal(0, 1, (3, 4, 1, 1)))
    y = g.node("Flatten", [g.node("Conv", ["x", w])])
    conv = np.einsum("nchw,oc->nohw", X4, w_value[:, :, 0, 0])
    check(tmp_path, g.model([("x", X4.shape)], [y]), X4, [conv.reshape(1, -1)], ["GATHER"])


def test_reshape_that_no_relabel_keeps(tmp_path):
    # [1, 4, H, W] -> [1, 2, 2*H*W]: no relabelling of the NHWC storage fits; it is transposed first.
    g = Graph()
    y = g.node("Reshape", [g.node("Relu", ["x"]), g.const([1, 2, 72], np.int64)[0]])
    check(tmp_path, g.model([("x", X4.shape)], [y]), X4, [np.maximum(X4, 0).reshape(1, 2, 72)], ["TRANSPOSE"])


def test_split_equal_and_unequal(tmp_path):
    g = Graph()
    a, b = g.node("Split", ["x"], n_out=2, axis=1)
    c, d = g.node("Split", [a, g.const([1, 5], np.int64)[0]], n_out=2, axis=3)
    check(tmp_path, g.model([("x", X4.shape)], [b, c, d]), X4,
          [X4[:, 2:], X4[:, :2, :, :1], X4[:, :2, :, 1:]], ["SPLIT", "SPLIT_V"])


@pytest.mark.parametrize("op,fn", [("ReduceMean", np.mean), ("ReduceSum", np.sum), ("ReduceMax", np.max)])
def test_reduce(tmp_path, op, fn):
    g = Graph()
    if op == "ReduceSum":                                   # opset 13: axes are an input
        y = g.node(op, ["x", g.const([1, -1], np.int64)[0]], keepdims=0)
    else:
        y = g.node(op, ["x"], axes=[1, -1], keepdims=0)
    z = g.node(op, ["x"], axes=[2], keepdims=1) if op != "ReduceSum" else \
        g.node(op, ["x", g.const([2], np.int64)[0]], keepdims=1)
    check(tmp_path, g.model([("x", X4.shape)], [y, z]), X4,
          [fn(X4, axis=(1, 3)), fn(X4, axis=2, keepdims=True)],
          [{"ReduceMean": "MEAN", "ReduceSum": "SUM", "ReduceMax": "REDUCE_MAX"}[op]])


def _nearest(x, out_hw, index):
    rows = [index(o, x.shape[2], out_hw[0]) for o in range(out_hw[0])]
    cols = [index(o, x.shape[3], out_hw[1]) for o in range(out_hw[1])]
    return x[:, :, rows][:, :, :, cols]


def test_resize_nearest(tmp_path):
    # PyTorch's export: asymmetric coordinates, floor; ONNX's default: half_pixel, round_prefer_floor.
    g = Graph()
    y = g.node("Resize", ["x", "", g.const([1, 1, 2, 3])[0]], mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    z = g.node("Resize", ["x", "", "", g.const([1, 4, 12, 12], np.int64)[0]], mode="nearest")
    w = g.node("Resize", ["x", "", "", g.const([1, 4, 9, 4], np.int64)[0]], mode="nearest",
               coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")
    floor = _nearest(X4, (12, 18), lambda o, n, m: int(np.floor(o * n / m)))
    half = _nearest(X4, (12, 12), lambda o, n, m: min(n - 1, int(np.floor((o + 0.5) * n / m))))
    half_ceil = _nearest(X4, (9, 4), lambda o, n, m: min(n - 1, int(np.floor((o + 0.5) * n / m))))
    check(tmp_path, g.model([("x", X4.shape)], [y, z, w]), X4, [floor, half, half_ceil],
          ["RESIZE_NEAREST_NEIGHBOR"])


def test_depth_to_space_and_space_to_depth(tmp_path):
    g = Graph()
    y = g.node("SpaceToDepth", ["x"], blocksize=2)
    z = g.node("DepthToSpace", ["x"], blocksize=2)          # mode DCR (the default)
    n, c, h, w = X4.shape
    s2d = X4.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 3, 5, 1, 2, 4).reshape(n, c * 4, h // 2, w // 2)
    d2s = X4.reshape(n, 2, 2, c // 4, h, w).transpose(0, 3, 4, 1, 5, 2).reshape(n, c // 4, h * 2, w * 2)
    check(tmp_path, g.model([("x", X4.shape)], [y, z]), X4, [s2d, d2s], ["SPACE_TO_DEPTH", "DEPTH_TO_SPACE"])


def test_pad_reflect(tmp_path):
    g = Graph()
    y = g.node("Pad", ["x", g.const([0, 0, 1, 2, 0, 0, 2, 1], np.int64)[0]], mode="reflect")
    check(tmp_path, g.model([("x", X4.shape)], [y]), X4,
          [np.pad(X4, ((0, 0), (0, 0), (1, 2), (2, 1)), mode="reflect")], ["MIRROR_PAD"])


def test_gather_with_constant_indices_and_cast(tmp_path):
    g = Graph()
    y = g.node("Gather", ["x", g.const([3, 0, -1], np.int64)[0]], axis=1)
    z = g.node("Gather", [g.node("Cast", ["x"], to=TensorProto.FLOAT), g.const(2, np.int64)[0]], axis=1)
    x = RNG.normal(0, 1, (2, 5)).astype(np.float32)
    check(tmp_path, g.model([("x", x.shape)], [y, z]), x, [x[:, [3, 0, 4]], x[:, 2]], ["GATHER"])


def test_arg_max_and_arg_min(tmp_path):
    g = Graph()
    y = g.node("ArgMax", ["x"], axis=1)                     # keepdims: [1, 1, H, W]
    z = g.node("ArgMin", ["x"], axis=-1, keepdims=0)        # over W of the NHWC storage: [1, C, H]
    ir = check(tmp_path, g.model([("x", X4.shape)], [y, z]), X4, [X4.argmax(1)[:, None], X4.argmin(-1)],
               ["ARG_MAX", "ARG_MIN"])
    assert [ir.tensors[i].dtype for i in ir.outputs] == ["int64", "int64"]


# ---- the table ----------------------------------------------------------------------------------

def test_translators_name_registry_ops():
    supported = set(ops.SUPPORTED_OPS)
    for name, entry in translators.TRANSLATORS.items():
        for target in entry.targets:
            assert target in supported or target in passes.PSEUDO_OPS, (name, target)
    for pseudo, lowered in passes.PSEUDO_OPS.items():
        assert set(lowered) <= supported, pseudo
    assert list(SUPPORTED_ONNX_OPS) == sorted(translators.TRANSLATORS)


def test_inspect_help_and_readme_list_the_onnx_ops():
    help_text = subprocess.run([sys.executable, str(ROOT / "scripts" / "tinynet"), "inspect", "--help"],
                               capture_output=True, text=True, check=True).stdout
    listed = re.search(r"ONNX operators read:\s*(.*?)\.\s*\n\s*\n", help_text, re.S)
    assert listed, help_text
    assert [op.strip() for op in " ".join(listed.group(1).split()).split(",")] == list(SUPPORTED_ONNX_OPS)
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- onnx-ops:begin -->")[1].split("<!-- onnx-ops:end -->")[0]
    assert [op.strip() for op in block.split(",")] == list(SUPPORTED_ONNX_OPS)


def test_a_translator_emitting_an_undeclared_op_is_refused(tmp_path, monkeypatch):
    entry = translators.TRANSLATORS["Abs"]
    monkeypatch.setitem(translators.TRANSLATORS, "Abs", translators.Translator("Abs", entry.translate, ("NEG",)))
    g = Graph()
    path = tmp_path / "m.onnx"
    onnx.save(g.model([("x", [1, 4])], [g.node("Abs", ["x"])]), str(path))
    with pytest.raises(AssertionError, match="ABS"):
        load_onnx(path)


# ---- C++ --------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
def test_new_ops_compile_and_match_the_reference(tmp_path):
    g = Graph()
    slope, _ = g.const(RNG.uniform(0.05, 0.3, (4, 1, 1)))
    h = g.node("PRelu", [g.node("HardSwish", ["x"]), slope])
    h = g.node("Mul", [h, g.node("Sigmoid", [g.node("GlobalAveragePool", [h])])])
    h = g.node("Resize", [h, "", g.const([1, 1, 2, 2])[0]], mode="nearest",
               coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    h = g.node("SpaceToDepth", [g.node("Pad", [h, g.const([0, 0, 1, 1, 0, 0, 1, 1], np.int64)[0]],
                                       mode="reflect")], blocksize=2)
    a, b = g.node("Split", [h, g.const([4, 12], np.int64)[0]], n_out=2, axis=1)
    h = g.node("Max", [a, g.node("ReduceMax", [b], axes=[1], keepdims=1)])
    y = g.node("DepthToSpace", [h], blocksize=2)
    z = g.node("ReduceSum", [h, g.const([2], np.int64)[0]], keepdims=0)    # [1, 4, W] stored [1, W, 4]
    arg = g.node("ArgMax", [h], axis=1, keepdims=0)
    path = tmp_path / "m.onnx"
    onnx.save(g.model([("x", X4.shape)], [y, z, arg]), str(path))
    ir = load_onnx(path)
    for opcode in ("PRELU", "HARD_SWISH", "MUL", "RESIZE_NEAREST_NEIGHBOR", "MIRROR_PAD", "SPACE_TO_DEPTH",
                   "SPLIT_V", "REDUCE_MAX", "MAXIMUM", "DEPTH_TO_SPACE", "SUM", "TRANSPOSE", "ARG_MAX"):
        assert opcode in {op.opcode for op in ir.ops}, opcode
    binary = runner.build_host(emit.generate_header(ir, "m"), "m", len(ir.inputs), len(ir.outputs))
    interp = Interpreter(ir)
    for k in range(2):
        x = RNG.normal(0, 2, ir.tensors[ir.inputs[0]].shape).astype(np.float32)
        inp, outs = tmp_path / f"in{k}.bin", [tmp_path / f"out{k}_{j}.bin" for j in range(3)]
        x.tofile(inp)
        runner.run_host(binary, [inp], outs)
        for out, expected in zip(outs, interp.invoke([x])):
            np.testing.assert_allclose(np.fromfile(out, expected.dtype), expected.reshape(-1), rtol=1e-5, atol=1e-5)


def _attention(g, d_model=8, d_head=4):
    """One attention head over a [1, T, d_model] sequence: softmax(x Wq (x Wk)^T) x Wv."""
    wq, wq_v = g.const(RNG.normal(0, 0.5, (d_model, d_head)))
    wk, wk_v = g.const(RNG.normal(0, 0.5, (d_model, d_head)))
    wv, wv_v = g.const(RNG.normal(0, 0.5, (d_model, d_head)))
    q, k, v = (g.node("MatMul", ["x", w]) for w in (wq, wk, wv))
    scores = g.node("MatMul", [q, g.node("Transpose", [k], perm=[0, 2, 1])])
    y = g.node("MatMul", [g.node("Softmax", [scores], axis=-1), v])

    def expected(x):
        s = (x @ wq_v) @ np.swapaxes(x @ wk_v, 1, 2)
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)) @ (x @ wv_v)
    return y, expected


def test_matmul_of_computed_tensors_is_a_batch_matmul(tmp_path):
    g = Graph()
    y, expected = _attention(g)
    x = RNG.normal(0, 1, (1, 6, 8)).astype(np.float32)
    ir = check(tmp_path, g.model([("x", x.shape)], [y]), x, [expected(x)], ["BATCH_MATMUL"])
    matmuls = [op for op in ir.ops if op.opcode == "BATCH_MATMUL"]
    assert len(matmuls) == 5          # three projections (rank-3 x: not a FULLY_CONNECTED) and two products
    assert sum(all(ir.tensors[i].data is None for i in op.inputs) for op in matmuls) == 2
    # A 2-D input times a constant stays a FULLY_CONNECTED.
    g2 = Graph()
    w, w_value = g2.const(RNG.normal(0, 1, (8, 3)))
    x2 = RNG.normal(0, 1, (2, 8)).astype(np.float32)
    ir2 = check(tmp_path, g2.model([("x", x2.shape)], [g2.node("MatMul", ["x", w])]), x2, [x2 @ w_value],
                ["FULLY_CONNECTED"])
    assert "BATCH_MATMUL" not in {op.opcode for op in ir2.ops}


def test_quantized_constant_operands_compile_and_match_the_reference(tmp_path):
    """--quantize gives constant operands (a full-tensor MUL, MAXIMUM with a constant, PRELU's alpha,
    a constant BATCH_MATMUL side) int8 parameters of their own: the int8 model stays within a few
    output steps of the float one, and the C++ gives the reference interpreter's bytes."""
    from tinynet_py.quantize import quantize_model
    g = Graph()
    y, _ = _attention(g)
    full, _ = g.const(RNG.normal(0, 1, (1, 6, 4)))
    floor, _ = g.const(RNG.normal(0, 0.2, (1, 6, 4)))
    slope, _ = g.const(RNG.uniform(0.05, 0.3, (4,)))
    y = g.node("PRelu", [g.node("Max", [g.node("Mul", [y, full]), floor]), slope])
    path = tmp_path / "m.onnx"
    onnx.save(g.model([("x", (1, 6, 8))], [y]), str(path))
    model = load_onnx(path)
    samples = RNG.normal(0, 1, (40, 1, 6, 8)).astype(np.float32)
    q = quantize_model(model, samples)
    for op in q.ops:
        for i in op.inputs:
            assert i < 0 or q.tensors[i].dtype != "float32", (op.opcode, q.tensors[i].name)
    assert {"BATCH_MATMUL", "MUL", "MAXIMUM", "PRELU"} <= {op.opcode for op in q.ops}
    x = RNG.normal(0, 1, (1, 6, 8)).astype(np.float32)
    out = q.tensors[q.outputs[0]]
    scale, zp = float(out.scale[0]), int(out.zero_point[0])
    xin = q.tensors[q.inputs[0]]
    xq = np.clip(np.round(x / float(xin.scale[0])) + int(xin.zero_point[0]), -128, 127).astype(np.int8)
    got = Interpreter(q).invoke([xq])[0]
    want = Interpreter(model).invoke([x])[0]
    assert np.max(np.abs((got.astype(np.float64) - zp) * scale - want)) < 6 * scale
    binary = runner.build_host(emit.generate_header(q, "m"), "m", 1, 1)
    (tmp_path / "in.bin").write_bytes(xq.tobytes())
    runner.run_host(binary, [tmp_path / "in.bin"], [tmp_path / "out.bin"])
    assert np.fromfile(tmp_path / "out.bin", np.int8).tobytes() == got.tobytes()
