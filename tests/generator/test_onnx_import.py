"""ONNX import (tinynet_py.onnx_import.load_onnx): graphs built with onnx.helper, run by the
reference interpreter, compared with a small NCHW numpy evaluator written here (it shares
no code with the importer); error cases; one CNN compiled to C++ and run on the host."""

import shutil

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from tinynet_py import emit, runner  # noqa: E402
from tinynet_py.errors import ModelError  # noqa: E402
from tinynet_py.onnx_import import load_onnx  # noqa: E402
from tinynet_py.reference import Interpreter  # noqa: E402

RNG = np.random.default_rng(20240611)


# ---- an independent NCHW evaluator ------------------------------------------------------------

def _conv(x, w, b, strides, pads, dilations, group):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // group
    for g in range(group):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * per_group:(g + 1) * per_group]
        for ky in range(kh):
            for kx in range(kw):
                y0, x0 = ky * dilations[0], kx * dilations[1]
                patch = xs[:, :, y0:y0 + (oh - 1) * strides[0] + 1:strides[0],
                           x0:x0 + (ow - 1) * strides[1] + 1:strides[1]]
                out[:, g * per_group:(g + 1) * per_group] += np.einsum("nchw,oc->nohw", patch, ws[:, :, ky, kx])
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out


def _pool(x, kernel, strides, pads, kind, include_pad=False):
    n, c, h, w = x.shape
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])), constant_values=fill)
    inside = np.pad(np.ones((h, w)), ((pads[0], pads[2]), (pads[1], pads[3])),
                    constant_values=1.0 if include_pad else 0.0)
    oh = (h + pads[0] + pads[2] - kernel[0]) // strides[0] + 1
    ow = (w + pads[1] + pads[3] - kernel[1]) // strides[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * strides[0]:i * strides[0] + kernel[0], j * strides[1]:j * strides[1] + kernel[1]]
            if kind == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                cnt = inside[i * strides[0]:i * strides[0] + kernel[0], j * strides[1]:j * strides[1] + kernel[1]].sum()
                out[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return out


def evaluate(model, feeds):
    """Runs an ONNX ModelProto (the ops these tests use) in float64, NCHW."""
    env = {k: np.asarray(v, np.float64) for k, v in feeds.items()}
    for init in model.graph.initializer:
        env[init.name] = numpy_helper.to_array(init)
    for node in model.graph.node:
        a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
        i = [env[n] if n else None for n in node.input]
        t = node.op_type
        if t == "Constant":
            r = numpy_helper.to_array(a["value"])
        elif t == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            r = a.get("alpha", 1.0) * A @ B
            if len(i) > 2:
                r = r + a.get("beta", 1.0) * i[2]
        elif t == "MatMul":
            r = i[0] @ i[1]
        elif t in ("Add", "Sub", "Mul", "Div"):
            r = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[t](i[0], i[1])
        elif t == "Relu":
            r = np.maximum(i[0], 0)
        elif t == "Clip":
            lo = i[1] if len(i) > 1 and i[1] is not None else a.get("min", -np.inf)
            hi = i[2] if len(i) > 2 and i[2] is not None else a.get("max", np.inf)
            r = np.clip(i[0], lo, hi)
        elif t == "Sigmoid":
            r = 1 / (1 + np.exp(-i[0]))
        elif t == "Tanh":
            r = np.tanh(i[0])
        elif t == "LeakyRelu":
            r = np.where(i[0] > 0, i[0], a.get("alpha", 0.01) * i[0])
        elif t == "Softmax":
            axis = a.get("axis", -1)
            e = np.exp(i[0] - i[0].max(axis=axis, keepdims=True))
            r = e / e.sum(axis=axis, keepdims=True)
        elif t == "Conv":
            w = i[1]
            r = _conv(i[0], w, i[2] if len(i) > 2 else None, a.get("strides", [1, 1]),
                      a.get("pads", [0, 0, 0, 0]), a.get("dilations", [1, 1]), a.get("group", 1))
        elif t == "BatchNormalization":
            shape = (1, -1) + (1,) * (i[0].ndim - 2)
            x, s, b, m, v = i[0], *(p.reshape(shape) for p in i[1:5])
            r = (x - m) / np.sqrt(v + a.get("epsilon", 1e-5)) * s + b
        elif t in ("MaxPool", "AveragePool"):
            r = _pool(i[0], a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]),
                      "max" if t == "MaxPool" else "avg", bool(a.get("count_include_pad", 0)))
        elif t == "GlobalAveragePool":
            r = i[0].mean(axis=(2, 3), keepdims=True)
        elif t == "Flatten":
            r = i[0].reshape(i[0].shape[0], -1)
        elif t == "Reshape":
            r = i[0].reshape([int(d) for d in i[1]])
        elif t == "Transpose":
            r = i[0].transpose(a["perm"])
        elif t in ("Identity", "Dropout"):
            r = i[0]
        else:
            raise NotImplementedError(t)
        env[node.output[0]] = r
    return [env[o.name] for o in model.graph.output]


# ---- graph building helpers ---------------------------------------------------------------------

class Graph:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def const(self, array, dtype=np.float32):
        self.count += 1
        name = f"c{self.count}"
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype), name))
        return name

    def weights(self, *shape, scale=0.5):
        return self.const(RNG.normal(0, scale, shape))

    def node(self, op, inputs, n_out=1, **attrs):
        self.count += 1
        outs = [f"v{self.count}_{k}" for k in range(n_out)]
        self.nodes.append(helper.make_node(op, list(inputs), outs, name=f"{op.lower()}{self.count}", **attrs))
        return outs[0]

    def model(self, inputs, outputs, opset=13):
        graph = helper.make_graph(
            self.nodes, "test",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
            initializer=self.inits)
        m = helper.make_model(graph, producer_name="tinynet-test",
                              opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 8
        return m


def import_and_compare(tmp_path, model, input_shape, rtol=1e-5, count=4, name="m.onnx"):
    """Saves `model`, imports it, compares the reference interpreter with `evaluate` on random
    inputs; returns the ir.Model."""
    path = tmp_path / name
    onnx.save(model, str(path))
    ir = load_onnx(path)
    interp = Interpreter(ir)
    in_t = ir.tensors[ir.inputs[0]]
    for _ in range(count):
        x = RNG.normal(0, 1, input_shape).astype(np.float32)
        expected = evaluate(model, {model.graph.input[0].name: x})
        stored = x.transpose(0, 2, 3, 1) if len(input_shape) == 4 and in_t.shape != tuple(input_shape) else x
        got = interp.invoke([stored])
        for e, g in zip(expected, got):
            if e.ndim == 4:                  # 4-D outputs are produced NHWC
                e = e.transpose(0, 2, 3, 1)
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * max(1.0, np.abs(e).max()))
    return ir


def opcodes(ir):
    return [op.opcode for op in ir.ops]


# ---- models -------------------------------------------------------------------------------------

def test_mlp_gemm_matmul_add_activations(tmp_path):
    g = Graph()
    h = g.node("Gemm", ["x", g.weights(16, 10), g.weights(16)], transB=1)
    h = g.node("Relu", [h])
    h = g.node("MatMul", [h, g.weights(16, 12)])
    h = g.node("Add", [h, g.weights(12)])
    h = g.node("Clip", [h, g.const(0.0), g.const(6.0)])
    h = g.node("Gemm", [h, g.weights(12, 8), g.weights(1, 8)], alpha=0.5, beta=2.0)
    h = g.node("Sigmoid", [h])
    h = g.node("Gemm", [h, g.weights(6, 8)], transB=1)
    h = g.node("Tanh", [h])
    h = g.node("Gemm", [h, g.weights(6, 5), g.weights(5)])
    h = g.node("LeakyRelu", [h], alpha=0.1)
    y = g.node("Softmax", [h], axis=-1)
    ir = import_and_compare(tmp_path, g.model([("x", [1, 10])], [y]), (1, 10))
    assert opcodes(ir) == ["FULLY_CONNECTED", "FULLY_CONNECTED", "FULLY_CONNECTED", "LOGISTIC",
                           "FULLY_CONNECTED", "TANH", "FULLY_CONNECTED", "LEAKY_RELU", "SOFTMAX"]
    acts = [op.options["fused_activation_function"] for op in ir.ops if op.opcode == "FULLY_CONNECTED"]
    assert acts == ["RELU", "RELU6", "NONE", "NONE", "NONE"]


def cnn(g, pool_pads=(0, 0, 0, 0)):
    """Conv -> BN -> Relu -> MaxPool -> depthwise Conv -> GlobalAveragePool -> Flatten -> Gemm -> Softmax."""
    h = g.node("Conv", ["x", g.weights(8, 3, 3, 3)], pads=[1, 1, 1, 1])
    h = g.node("BatchNormalization", [h, g.const(RNG.uniform(0.5, 1.5, 8)), g.weights(8),
                                      g.weights(8), g.const(RNG.uniform(0.5, 2, 8))], epsilon=1e-3)
    h = g.node("Relu", [h])
    h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2], pads=list(pool_pads))
    h = g.node("Conv", [h, g.weights(16, 1, 3, 3), g.weights(16)], group=8, pads=[1, 1, 1, 1], strides=[2, 2])
    h = g.node("Relu", [h])
    h = g.node("GlobalAveragePool", [h])
    h = g.node("Flatten", [h])
    h = g.node("Gemm", [h, g.weights(10, 16), g.weights(10)], transB=1)
    return g.node("Softmax", [h], axis=1)


def test_cnn(tmp_path):
    g = Graph()
    y = cnn(g)
    ir = import_and_compare(tmp_path, g.model([("x", [1, 3, 12, 12])], [y]), (1, 3, 12, 12))
    # stride 2 with pads 1, 1 on an even size: TFLite's SAME would pad 0, 1 -> explicit PAD
    assert opcodes(ir) == ["CONV_2D", "MAX_POOL_2D", "PAD", "DEPTHWISE_CONV_2D", "MEAN", "RESHAPE",
                           "FULLY_CONNECTED", "SOFTMAX"]
    assert ir.ops[0].options["fused_activation_function"] == "RELU"
    assert ir.ops[3].options["depth_multiplier"] == 2
    assert ir.ops[3].options["fused_activation_function"] == "RELU"
    assert ir.tensors[ir.inputs[0]].shape == (1, 12, 12, 3)
    assert "NHWC" in ir.description


def test_flatten_of_a_feature_map_permutes_gemm_columns(tmp_path):
    g = Graph()
    h = g.node("Conv", ["x", g.weights(4, 2, 3, 3), g.weights(4)], strides=[2, 2])
    h = g.node("Relu", [h])
    h = g.node("Flatten", [h])                            # 4 x 3 x 3, CHW order
    h = g.node("Gemm", [h, g.weights(5, 36), g.weights(5)], transB=1)
    h = g.node("Relu", [h])
    y = g.node("MatMul", [h, g.weights(5, 3)])
    import_and_compare(tmp_path, g.model([("x", [1, 2, 7, 7])], [y]), (1, 2, 7, 7))
    g = Graph()                                           # the same via Reshape [1, -1]
    h = g.node("Conv", ["x", g.weights(4, 2, 3, 3)], strides=[2, 2])
    h = g.node("Reshape", [h, g.const([1, -1], np.int64)])
    y = g.node("Gemm", [h, g.weights(36, 5)])
    import_and_compare(tmp_path, g.model([("x", [1, 2, 7, 7])], [y]), (1, 2, 7, 7))


@pytest.mark.parametrize("pads,strides,explicit", [
    ([1, 1, 1, 1], [1, 1], False),      # SAME
    ([0, 0, 1, 1], [2, 2], False),      # TFLite's SAME puts the odd pixel at the end
    ([1, 1, 0, 0], [2, 2], True),       # ... not at the start: explicit PAD
    ([1, 0, 2, 1], [1, 1], True),       # asymmetric
    ([0, 0, 0, 0], [2, 1], False),      # VALID
])
def test_conv_padding(tmp_path, pads, strides, explicit):
    g = Graph()
    y = g.node("Conv", ["x", g.weights(3, 2, 3, 3), g.weights(3)], pads=pads, strides=strides)
    ir = import_and_compare(tmp_path, g.model([("x", [1, 2, 8, 8])], [y]), (1, 2, 8, 8))
    assert ("PAD" in opcodes(ir)) == explicit


def test_padded_pools(tmp_path):
    g = Graph()
    h = g.node("Conv", ["x", g.weights(4, 3, 1, 1)])
    h = g.node("Relu", [h])
    h = g.node("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])  # ResNet stem
    h = g.node("AveragePool", [h], kernel_shape=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    h = g.node("AveragePool", [h], kernel_shape=[3, 3], pads=[1, 1, 1, 1])             # SAME
    y = g.node("Clip", [h, g.const(0.0), g.const(6.0)])
    ir = import_and_compare(tmp_path, g.model([("x", [1, 3, 8, 8])], [y]), (1, 3, 8, 8))
    assert opcodes(ir).count("PAD") == 2
    assert ir.ops[-1].options["fused_activation_function"] == "RELU6"


def test_nhwc_input_with_transposes_keras_style(tmp_path):
    g = Graph()
    h = g.node("Transpose", ["x"], perm=[0, 3, 1, 2])
    h = g.node("Conv", [h, g.weights(4, 3, 3, 3), g.weights(4)], pads=[1, 1, 1, 1])
    h = g.node("Relu", [h])
    h = g.node("Transpose", [h], perm=[0, 2, 3, 1])
    h = g.node("Reshape", [h, g.const([1, 96], np.int64)])
    h = g.node("MatMul", [h, g.weights(96, 4)])
    y = g.node("Add", [h, g.weights(4)])
    ir = import_and_compare(tmp_path, g.model([("x", [1, 4, 6, 3])], [y]), (1, 4, 6, 3))
    assert ir.tensors[ir.inputs[0]].shape == (1, 4, 6, 3)
    assert opcodes(ir) == ["CONV_2D", "RESHAPE", "FULLY_CONNECTED"]


def test_standalone_affine_and_relu_are_lowered(tmp_path):
    g = Graph()
    h = g.node("BatchNormalization", ["x", g.const(RNG.uniform(0.5, 1.5, 3)), g.weights(3),
                                      g.weights(3), g.const(RNG.uniform(0.5, 2, 3))])
    h = g.node("Relu", [h])
    h = g.node("Mul", [h, g.const(RNG.uniform(0.5, 2, (3, 1, 1)))])
    h = g.node("Sub", [h, g.const(0.25)])
    h = g.node("Conv", [h, g.weights(4, 3, 3, 3)])
    h = g.node("Dropout", [h])
    h = g.node("Identity", [h])
    y = g.node("Relu", [h])
    z = g.node("Relu", [g.node("Add", [y, h])])
    ir = import_and_compare(tmp_path, g.model([("x", [1, 3, 6, 6])], [z, y]), (1, 3, 6, 6))
    assert "DEPTHWISE_CONV_2D" in opcodes(ir) and "MAX_POOL_2D" in opcodes(ir)


def test_opset9_clip_attributes_and_affine_chains(tmp_path):
    g = Graph()
    h = g.node("Relu", ["x"])                                  # on the input: lowered
    h = g.node("Gemm", [h, g.weights(8, 6), g.weights(1, 6)])
    h = g.node("Clip", [h], min=0.0, max=6.0)                   # attributes before opset 11
    h = g.node("Sub", [g.weights(6), h])                        # constant - x
    h = g.node("Div", [h, g.const(2.0)])                        # folds into the same affine
    y = g.node("Softmax", [h])
    ir = import_and_compare(tmp_path, g.model([("x", [1, 8])], [y, h], opset=9), (1, 8))
    assert opcodes(ir).count("DEPTHWISE_CONV_2D") == 1
    assert ("FULLY_CONNECTED", "RELU6") in [(op.opcode, op.options.get("fused_activation_function"))
                                            for op in ir.ops]


def test_mlp_from_pytorch_style_shape_arithmetic(tmp_path):
    g = Graph()
    h = g.node("Conv", ["x", g.weights(2, 1, 3, 3)])
    shape = g.node("Shape", [h])
    batch = g.node("Gather", [shape, g.const(0, np.int64)], axis=0)
    batch = g.node("Unsqueeze", [batch, g.const([0], np.int64)])
    target = g.node("Concat", [batch, g.const([-1], np.int64)], axis=0)
    h = g.node("Reshape", [h, target])
    y = g.node("Gemm", [h, g.weights(3, 8)], transB=1)
    g.nodes = [n for n in g.nodes]
    evaluate_nodes = [n for n in g.nodes if n.op_type in ("Conv", "Gemm")]
    model = g.model([("x", [1, 1, 4, 4])], [y])
    ir = load_onnx(_save(tmp_path, model))
    x = RNG.normal(0, 1, (1, 1, 4, 4)).astype(np.float32)
    ref = Graph()
    ref.nodes, ref.inits = evaluate_nodes, g.inits
    ref.nodes = [evaluate_nodes[0], helper.make_node("Flatten", [evaluate_nodes[0].output[0]], ["flat"]),
                 helper.make_node("Gemm", ["flat", evaluate_nodes[1].input[1]], [y], transB=1)]
    expected = evaluate(ref.model([("x", [1, 1, 4, 4])], [y]), {"x": x})[0]
    got = Interpreter(ir).invoke([x.transpose(0, 2, 3, 1)])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def _save(tmp_path, model, name="m.onnx"):
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


# ---- errors -------------------------------------------------------------------------------------

def one_line_error(path, *words):
    with pytest.raises(ModelError) as info:
        load_onnx(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{path}: "), text
    for w in words:
        assert w in text, (w, text)
    return text


def test_error_unsupported_op(tmp_path):
    g = Graph()
    y = g.node("Erf", ["x"])
    text = one_line_error(_save(tmp_path, g.model([("x", [1, 4])], [y])), "Erf", "erf", "supported", "Gemm")
    assert "node 'erf" in text


def test_error_dynamic_shape(tmp_path):
    g = Graph()
    y = g.node("Relu", ["x"])
    one_line_error(_save(tmp_path, g.model([("x", [1, "width"])], [y])), "dynamic", "'x'")


def test_dynamic_batch_becomes_one(tmp_path):
    g = Graph()
    y = g.node("Gemm", ["x", g.weights(3, 4)], transB=1)
    ir = load_onnx(_save(tmp_path, g.model([("x", ["batch", 4])], [y])))
    assert ir.tensors[ir.inputs[0]].shape == (1, 4) and "batch" in ir.description


def test_error_bad_file(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x08\x07garbage that is not a protobuf \xff\xfe" * 3)
    one_line_error(path, "ONNX")


@pytest.mark.parametrize("build,words", [
    (lambda g: g.node("MaxPool", ["x"], kernel_shape=[3, 3], pads=[1, 1, 0, 0]), ["MaxPool", ">= 0"]),
    (lambda g: g.node("Softmax", ["x"], axis=2), ["Softmax", "axis"]),
    (lambda g: g.node("Mul", ["x", g.node("ReduceMean", ["x"], axes=[1], keepdims=0)]), ["Mul", "ranks"]),
    (lambda g: g.node("Conv", [g.node("Concat", ["x", "x"], axis=1), g.weights(4, 2, 1, 1)], group=2),
     ["group=2"]),
    (lambda g: g.node("Clip", ["x", g.const(0.0), g.const(3.0)]), ["Clip"]),
    (lambda g: g.node("DepthToSpace", ["x"], blocksize=1, mode="CRD"), ["DepthToSpace", "DCR"]),
    (lambda g: g.node("Resize", ["x", "", g.const([1, 1, 2, 2])], mode="linear"), ["Resize", "nearest"]),
])
def test_error_cases(tmp_path, build, words):
    g = Graph()
    y = build(g)
    one_line_error(_save(tmp_path, g.model([("x", [1, 2, 4, 4])], [y])), *words)


# ---- C++ ----------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
def test_cnn_compiles_and_matches_the_reference(tmp_path):
    g = Graph()
    h = g.node("Conv", ["x", g.weights(6, 3, 3, 3), g.weights(6)], pads=[0, 0, 1, 1], strides=[2, 2])
    h = g.node("BatchNormalization", [h, g.const(RNG.uniform(0.5, 1.5, 6)), g.weights(6),
                                      g.weights(6), g.const(RNG.uniform(0.5, 2, 6))])
    h = g.node("Clip", [h, g.const(0.0), g.const(6.0)])
    h = g.node("Conv", [h, g.weights(6, 1, 3, 3), g.weights(6)], group=6, pads=[1, 1, 1, 1])
    h = g.node("Relu", [h])
    h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = g.node("Flatten", [h])
    h = g.node("Gemm", [h, g.weights(10, 54), g.weights(10)], transB=1)
    y = g.node("Softmax", [h])
    ir = load_onnx(_save(tmp_path, g.model([("x", [1, 3, 12, 12])], [y])))
    cpp_matches_reference(tmp_path, ir)


def cpp_matches_reference(tmp_path, ir, runs=3):
    binary = runner.build_host(emit.generate_header(ir, "m"), "m", len(ir.inputs), len(ir.outputs))
    interp = Interpreter(ir)
    for k in range(runs):
        x = RNG.normal(0, 1, ir.tensors[ir.inputs[0]].shape).astype(np.float32)
        inp = tmp_path / f"in{k}.bin"
        outs = [tmp_path / f"out{k}_{j}.bin" for j in range(len(ir.outputs))]
        x.tofile(inp)
        runner.run_host(binary, [inp], outs)
        for path, expected in zip(outs, interp.invoke([x])):
            np.testing.assert_allclose(np.fromfile(path, np.float32), expected.reshape(-1),
                                       rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
@pytest.mark.parametrize("build", [test_mlp_gemm_matmul_add_activations, test_standalone_affine_and_relu_are_lowered,
                                   test_nhwc_input_with_transposes_keras_style, test_padded_pools,
                                   test_opset9_clip_attributes_and_affine_chains])
def test_more_models_compile_and_match(tmp_path, build, monkeypatch):
    models = []
    monkeypatch.setitem(globals(), "import_and_compare",
                        lambda tp, m, shape, **kw: models.append(load_onnx(_save(tp, m))) or models[-1])
    build(tmp_path)
    cpp_matches_reference(tmp_path, models[0])
