"""Reads an ONNX model (float32, static shapes) into tinynet's IR.

    load_onnx(path) -> ir.Model

The result is a float32 model of TFLite-style ops that reference.Interpreter runs and
emit.py turns into C++; quantize it afterwards like any float model.

Layout.  ONNX is NCHW, tinynet (like TFLite) is NHWC.  The importer keeps, for every ONNX
value, the axis order in which it is *stored*: convolution-side 4-D values are stored
NHWC, so a 4-D graph input of ONNX shape [N, C, H, W] becomes an NHWC input
[N, H, W, C] (model.description says so, input by input), and a 4-D graph output is
produced NHWC likewise.  ONNX Transpose nodes only relabel that order (no data moves):
a Keras/tf2onnx model whose input is already NHWC and goes through Transpose(0, 3, 1, 2)
keeps its NHWC input.  When Flatten/Reshape turns a 4-D feature map into rows (C, H, W
order in ONNX, H, W, C in memory here), the next Gemm/MatMul's weight columns are
permuted so the results are identical.  Something that would need real data movement
(tinynet has no TRANSPOSE op) is refused with a ModelError.

Fusions, as TFLite's converter does them: BatchNormalization, Mul/Div by a per-channel
constant and Add/Sub of a per-channel constant fold into the preceding Conv/Gemm/MatMul
(weights and bias); Relu, Clip(0, 6), Clip(-1, 1) fold into the preceding Conv, Gemm,
Add, Sub or pooling op's fused_activation_function.  What cannot be folded is lowered to
supported ops: a per-channel affine (standalone BatchNormalization, Mul, Add) becomes a
1x1 DEPTHWISE_CONV_2D, a standalone Relu/Relu6 a 1x1 MAX_POOL_2D with that activation.

Anything else raises ModelError naming the node and listing the supported ops.
"""

import hashlib
import itertools

import numpy as np

from . import ops
from .errors import ModelError, TinynetError, onnx_missing
from .ir import Model, Op, Tensor

# ONNX operators (default domain) the importer understands.  The ones marked "constants"
# are evaluated at import time when all their inputs are constants (shape arithmetic as
# PyTorch exports it for x.view(x.size(0), -1)).
SUPPORTED_ONNX_OPS = (
    "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant",
    "Conv", "Div", "Dropout", "Flatten", "Gather", "Gemm", "GlobalAveragePool",
    "GlobalMaxPool", "Identity", "LeakyRelu", "MatMul", "MaxPool", "Mul", "Pad",
    "ReduceMean", "Relu", "Reshape", "Shape", "Sigmoid", "Softmax", "Squeeze", "Sub",
    "Tanh", "Transpose", "Unsqueeze",
)
_CONSTANT_ONLY = ("Cast", "Gather", "Shape")

NHWC = (0, 2, 3, 1)          # stored = onnx.transpose(NHWC) for an NCHW value
_RELUS = {"RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
_FUSE_ACTIVATION_INTO = ops.names(lambda s: s.fuses_activation)   # the op registry's targets
_WEIGHTED = ops.names(lambda s: s.quantize == "weights")
_ONNX_FLOAT = 1


def supported_onnx_ops_text():
    return ", ".join(SUPPORTED_ONNX_OPS)


def _external_tensors(graph):
    """Every TensorProto of the graph and its subgraphs (initializers, node attributes) that keeps
    its data in an external file."""
    for t in graph.initializer:
        if t.data_location == 1:
            yield t
    for node in graph.node:
        for a in node.attribute:
            for t in ([a.t] if a.HasField("t") else []) + list(a.tensors):
                if t.data_location == 1:
                    yield t
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                yield from _external_tensors(g)


def _load_external_data(proto, path, allowed):
    """Reads the tensors an ONNX file keeps in external files, if --allow-external-data says so,
    and only from files inside the model's folder: a location that is absolute, names a parent
    folder, or resolves (through symlinks) outside the folder is refused, so that a model cannot
    pull /etc/... or ~/.ssh/... into a header's weights."""
    import os
    from .safe_text import escape
    tensors = list(_external_tensors(proto.graph))
    if not tensors:
        return
    if not allowed:
        raise ModelError(path, f"{len(tensors)} tensor(s) keep their data in external files "
                               f"(e.g. '{escape(tensors[0].name)}'); tinynet reads external data only "
                               f"with --allow-external-data, and only from the model's folder")
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    for t in tensors:
        location = next((e.value for e in t.external_data if e.key == "location"), "")
        shown = escape(location)
        parts = location.replace("\\", "/").split("/")
        if not location or os.path.isabs(location) or location.startswith(("/", "\\")) or \
                (len(location) > 1 and location[1] == ":") or ".." in parts:
            raise ModelError(path, f"tensor '{escape(t.name)}': external data location '{shown}' is "
                                   f"absolute or leaves the model's folder (refused)")
        target = os.path.realpath(os.path.join(folder, location))
        if os.path.commonpath([folder, target]) != folder or target == folder:
            raise ModelError(path, f"tensor '{escape(t.name)}': external data location '{shown}' "
                                   f"resolves outside the model's folder (refused)")
        if not os.path.isfile(target):
            raise ModelError(path, f"tensor '{escape(t.name)}': external data file '{shown}' "
                                   f"not found next to the model")
    try:
        from onnx.external_data_helper import load_external_data_for_model
        load_external_data_for_model(proto, folder)
    except Exception as e:
        raise ModelError(path, f"cannot load the model's external data: {escape(e)}") from None


def load_onnx(path, allow_external_data=False):
    """Parses the ONNX file `path` into a float32 ir.Model (see the module docstring). Tensors kept
    in external files are read only with allow_external_data, and only from the model's folder."""
    path = str(path)
    try:
        import onnx
    except ImportError:
        raise TinynetError(path, onnx_missing()) from None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TinynetError(path, f"cannot read the model: {e.strerror or e}") from None
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as e:                       # protobuf's DecodeError and friends
        raise ModelError(path, f"not an ONNX model: cannot parse it as an ONNX protobuf "
                               f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no detail'})") from None
    if not proto.HasField("graph") or len(proto.graph.node) == 0:
        raise ModelError(path, "not an ONNX model, or an empty one: it has no graph nodes")
    _load_external_data(proto, path, allow_external_data)
    importer = _Importer(proto, path, hashlib.sha256(data).hexdigest())
    model = importer.run()
    # Every kernel's prepare() checks shapes and options: an inconsistency is caught here.
    from .reference import Interpreter
    Interpreter(model)
    return model


class _Value:
    """An ONNX value: its ONNX shape, and either constant contents (ONNX layout) or the IR
    tensor holding it, stored as onnx_value.transpose(order), and for rank 2 additionally
    with its columns permuted (stored[:, i] = onnx[:, colperm[i]])."""

    def __init__(self, shape, index=None, const=None, order=None, colperm=None, nonneg=False):
        self.shape = tuple(int(d) for d in shape)
        self.index = index
        self.const = const
        self.order = tuple(order) if order is not None else tuple(range(len(self.shape)))
        self.colperm = colperm
        self.nonneg = nonneg          # known >= 0 (after Relu): zero padding == -inf padding

    @property
    def stored_shape(self):
        return tuple(self.shape[a] for a in self.order)

    def flat_index(self):
        """stored flat position i holds ONNX flat element flat_index()[i]."""
        idx = np.arange(int(np.prod(self.shape, dtype=np.int64))).reshape(self.shape)
        idx = idx.transpose(self.order)
        if self.colperm is not None:
            idx = idx[:, self.colperm]
        return idx.reshape(-1)


def _order_index(shape, order):
    return np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape).transpose(order).reshape(-1)


class _Importer:
    def __init__(self, proto, path, sha256):
        self.proto = proto
        self.graph = proto.graph
        self.path = path
        self.sha256 = sha256
        self.opset = 1
        for imp in proto.opset_import:
            if imp.domain in ("", "ai.onnx"):
                self.opset = int(imp.version)
        self.tensors = []
        self.ops = []
        self.values = {}
        self.notes = []
        self.nchw_shapes = {}         # IR tensor index -> ONNX NCHW shape of an NHWC graph input/output
        self.node = None

    # -- errors and helpers ------------------------------------------------------------------
    def fail(self, detail):
        raise ModelError(self.path, detail)

    def label(self, node=None):
        node = node or self.node
        name = f" '{node.name}'" if node.name else ""
        return f"node{name} ({node.op_type})"

    def node_fail(self, detail):
        self.fail(f"{self.label()}: {detail}")

    def attrs(self, node):
        from onnx import helper
        result = {}
        for a in node.attribute:
            v = helper.get_attribute_value(a)
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            result[a.name] = v
        return result

    def new_tensor(self, name, shape, data=None, dtype="float32"):
        if data is not None:
            data = np.ascontiguousarray(data).astype(dtype).reshape(shape)
            data.setflags(write=False)
        t = Tensor(index=len(self.tensors), name=name, shape=tuple(int(d) for d in shape),
                   dtype=dtype, data=data)
        self.tensors.append(t)
        return t.index

    def const_tensor(self, name, data, dtype="float32"):
        data = np.asarray(data)
        return self.new_tensor(name, data.shape, data, dtype)

    def add_op(self, opcode, inputs, outputs, **options):
        op = Op(index=-1, opcode=opcode, inputs=list(inputs), outputs=list(outputs), options=options)
        self.ops.append(op)
        return op

    def out_name(self, k=0):
        return self.node.output[k]

    def activation_value(self, shape, order, name=None, colperm=None, nonneg=False):
        v = _Value(shape, order=order, colperm=colperm, nonneg=nonneg)
        v.index = self.new_tensor(name or self.out_name(), v.stored_shape)
        return v

    def define(self, value, k=0):
        self.values[self.node.output[k]] = value

    def input(self, k, required=True):
        node = self.node
        if k >= len(node.input) or node.input[k] == "":
            if required:
                self.node_fail(f"input {k} is missing")
            return None
        name = node.input[k]
        if name not in self.values:
            self.node_fail(f"input '{name}' is not a graph input, an initializer or the output "
                           f"of an earlier node (nodes must be in topological order)")
        return self.values[name]

    def act(self, k):
        v = self.input(k)
        if v.const is not None:
            self.node_fail(f"input {k} ('{self.node.input[k]}') is a constant; this op needs "
                           f"a computed (activation) input")
        return v

    def const(self, k, what, required=True):
        v = self.input(k, required)
        if v is None:
            return None
        if v.const is None:
            self.node_fail(f"{what} (input {k}, '{self.node.input[k]}') must be a constant "
                           f"(an initializer or a Constant node)")
        return v.const

    def unused_outputs(self, first):
        for name in self.node.output[first:]:
            if name and name in self.consumed:
                self.node_fail(f"output '{name}' is used; only the first output is supported")

    # -- layout ------------------------------------------------------------------------------
    def stored_as(self, v, order, why):
        """The IR tensor index of v stored in axis order `order` (no column permutation):
        free when the memory order already agrees (then a RESHAPE at most)."""
        if v.order == tuple(order) and v.colperm is None:
            return v.index
        want = _order_index(v.shape, order)
        if np.array_equal(v.flat_index(), want):
            shape = tuple(v.shape[a] for a in order)
            out = self.new_tensor(f"{self.tensors[v.index].name}/reshaped", shape)
            self.add_op("RESHAPE", [v.index], [out], new_shape=list(shape))
            return out
        self.node_fail(f"{why}; its input is stored in a different memory order (ONNX shape "
                       f"{list(v.shape)} stored as axes {list(v.order)}"
                       f"{', columns permuted' if v.colperm is not None else ''}) and tinynet has "
                       f"no TRANSPOSE op to reorder it")

    def stored_constant(self, c, v):
        """Constant c (ONNX layout, broadcastable to v's shape) in v's stored layout, or None
        when it does not broadcast to v without growing it."""
        c = np.asarray(c, np.float32)
        try:
            if np.broadcast_shapes(c.shape, v.shape) != v.shape:
                return None
        except ValueError:
            return None
        c = c.reshape((1,) * (len(v.shape) - c.ndim) + c.shape).transpose(v.order)
        if v.colperm is not None:
            c = np.broadcast_to(c, v.stored_shape)[:, v.colperm]
        return np.ascontiguousarray(c)

    @staticmethod
    def last_axis_vector(c, stored_shape):
        """c (stored layout) as a vector over the stored last axis, if it only varies there."""
        if c.ndim and any(d != 1 for d in c.shape[:-1]):
            return None
        channels = stored_shape[-1] if stored_shape else 1
        return np.broadcast_to(c.reshape(-1), (channels,)).astype(np.float32)

    # -- top level ---------------------------------------------------------------------------
    def run(self):
        g = self.graph
        self.consumed = {}
        for node in g.node:
            for name in node.input:
                self.consumed.setdefault(name, []).append(node)
        output_names = [o.name for o in g.output]
        for name in output_names:
            self.consumed.setdefault(name, []).append(None)
        from onnx import numpy_helper
        initializers = {}
        for init in g.initializer:
            try:
                initializers[init.name] = numpy_helper.to_array(init)
            except Exception as e:
                self.fail(f"initializer '{init.name}' cannot be read ({e})")
        for name, array in initializers.items():
            self.values[name] = _Value(array.shape, const=array)
        inputs = []
        for vi in g.input:
            if vi.name in initializers:
                continue
            inputs.append(self.graph_input(vi))
        if not inputs:
            self.fail("the graph has no (non-constant) input")
        for i, node in enumerate(g.node):
            self.node = node
            if node.domain not in ("", "ai.onnx"):
                self.node_fail(f"operator domain '{node.domain}' is not supported (only the "
                               f"default ONNX domain; supported ops: {supported_onnx_ops_text()})")
            handler = getattr(self, f"op_{node.op_type}", None)
            if node.op_type not in SUPPORTED_ONNX_OPS:
                self.node_fail(f"ONNX operator {node.op_type} is not supported (supported: "
                               f"{supported_onnx_ops_text()})")
            if node.op_type in _CONSTANT_ONLY or (
                    node.op_type in self.FOLDABLE and node.input and all(
                        n == "" or (n in self.values and self.values[n].const is not None)
                        for n in node.input)):
                if node.op_type != "Shape" and any(
                        n and n in self.values and self.values[n].const is None for n in node.input):
                    self.node_fail(f"{node.op_type} is supported on constants only (shape "
                                   f"arithmetic), not on computed values")
                self.fold_constant(node)
                continue
            handler()
        self.node = None
        outputs = [self.graph_output(vi) for vi in g.output]
        self.input_values, self.output_indices = inputs, outputs
        self.finish_ops()
        return self.build_model([v.index for v in inputs], outputs)

    def graph_input(self, vi):
        t = vi.type
        if not t.HasField("tensor_type"):
            self.fail(f"graph input '{vi.name}' is not a tensor (sequences and maps are not supported)")
        if t.tensor_type.elem_type != _ONNX_FLOAT:
            from onnx import TensorProto
            dtype = TensorProto.DataType.Name(t.tensor_type.elem_type)
            self.fail(f"graph input '{vi.name}' has dtype {dtype}; the ONNX importer reads "
                      f"float32 models (quantize them with tinynet afterwards)")
        if not t.tensor_type.HasField("shape"):
            self.fail(f"graph input '{vi.name}' has no shape; tinynet needs static shapes: "
                      f"re-export the model with fixed input dimensions")
        dims = []
        for axis, d in enumerate(t.tensor_type.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(int(d.dim_value))
            elif axis == 0 and len(t.tensor_type.shape.dim) > 1:
                dims.append(1)              # an unknown batch dimension: one sample at a time
                self.notes.append(f"input '{vi.name}': dynamic batch dimension "
                                  f"'{d.dim_param or '?'}' fixed to 1")
            else:
                shown = [dd.dim_value if dd.HasField("dim_value") else (dd.dim_param or "?")
                         for dd in t.tensor_type.shape.dim]
                self.fail(f"graph input '{vi.name}' has a dynamic shape {shown} (dimension "
                          f"{axis} is unknown); tinynet needs static shapes (only the batch "
                          f"dimension may be unknown, it becomes 1): re-export the model with "
                          f"fixed dimensions")
        if len(dims) == 4:
            readers = self.consumed.get(vi.name, [])
            if readers and all(n is not None and n.op_type == "Transpose" for n in readers):
                order = (0, 1, 2, 3)
            else:
                order = NHWC
                self.notes.append(f"input '{vi.name}': ONNX NCHW {dims} is read as NHWC "
                                  f"{[dims[a] for a in NHWC]}")
        else:
            order = tuple(range(len(dims)))
        v = _Value(dims, order=order)
        v.index = self.new_tensor(vi.name, v.stored_shape)
        if order == NHWC:
            self.nchw_shapes[v.index] = tuple(dims)
        self.values[vi.name] = v
        return v

    def graph_output(self, vi):
        if vi.name not in self.values:
            self.fail(f"graph output '{vi.name}' is not produced by any node")
        v = self.values[vi.name]
        if v.const is not None:
            self.fail(f"graph output '{vi.name}' is a constant; tinynet needs outputs computed "
                      f"from the inputs")
        declared = vi.type.tensor_type.shape.dim if vi.type.HasField("tensor_type") else []
        if declared and len(declared) == len(v.shape):
            for axis, (d, mine) in enumerate(zip(declared, v.shape)):
                if d.HasField("dim_value") and d.dim_value > 0 and d.dim_value != mine and axis > 0:
                    self.fail(f"graph output '{vi.name}' is declared with shape "
                              f"{[x.dim_value for x in declared]} but computes to {list(v.shape)}")
        identity = tuple(range(len(v.shape)))
        if np.array_equal(v.flat_index(), _order_index(v.shape, identity)):
            if v.stored_shape != v.shape:
                self.tensors[v.index].name = f"{vi.name}/stored"
                out = self.new_tensor(vi.name, v.shape)
                self.add_op("RESHAPE", [v.index], [out], new_shape=list(v.shape))
                return out
            return v.index
        if v.colperm is None and v.order == NHWC:
            self.notes.append(f"output '{vi.name}': ONNX NCHW {list(v.shape)} is produced as "
                              f"NHWC {list(v.stored_shape)}")
            self.nchw_shapes[v.index] = tuple(v.shape)
            return v.index
        self.fail(f"graph output '{vi.name}' (ONNX shape {list(v.shape)}) is stored in "
                  f"another memory order here (a flattened NHWC feature map) and tinynet has "
                  f"no TRANSPOSE op to reorder it; end the model with a Gemm/MatMul or a "
                  f"spatially 1x1 map")

    # -- constants ---------------------------------------------------------------------------
    FOLDABLE = ("Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat",
                "Transpose", "Add", "Sub", "Mul", "Div", "Dropout")

    def op_Constant(self):
        from onnx import numpy_helper
        a = self.attrs(self.node)
        if "value" in a:
            array = numpy_helper.to_array(a["value"])
        elif "value_float" in a:
            array = np.array(a["value_float"], np.float32)
        elif "value_floats" in a:
            array = np.array(a["value_floats"], np.float32)
        elif "value_int" in a:
            array = np.array(a["value_int"], np.int64)
        elif "value_ints" in a:
            array = np.array(a["value_ints"], np.int64)
        else:
            self.node_fail(f"Constant with attribute {list(a)} is not supported (value, "
                           f"value_float(s), value_int(s))")
        self.define(_Value(array.shape, const=array))

    def fold_constant(self, node):
        """Evaluates a node whose inputs are all constants (Shape: whose input shape is known)."""
        a = self.attrs(node)
        ins = [self.input(k, required=False) for k in range(len(node.input))]
        c = [v.const if v is not None else None for v in ins]
        op = node.op_type
        if op == "Shape":
            shape = np.array(ins[0].shape, np.int64)
            result = shape[a.get("start", 0):a.get("end", len(shape))]
        elif op in ("Identity", "Dropout"):
            result = c[0]
        elif op == "Cast":
            from onnx import helper
            result = c[0].astype(helper.tensor_dtype_to_np_dtype(a["to"]))
        elif op == "Gather":
            result = np.take(c[0], c[1].astype(np.int64), axis=a.get("axis", 0))
        elif op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze"):
            result = c[0].reshape(self.reshape_target(ins[0].shape, a))
        elif op == "Concat":
            result = np.concatenate([x for x in c if x is not None], axis=a["axis"])
        elif op == "Transpose":
            result = c[0].transpose(a.get("perm", list(range(c[0].ndim))[::-1]))
        elif op in ("Add", "Sub", "Mul", "Div"):
            fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}.get(op)
            if op == "Div":
                fn = np.floor_divide if np.issubdtype(c[0].dtype, np.integer) else np.divide
            result = fn(c[0], c[1]).astype(np.result_type(c[0], c[1]))
        else:
            self.node_fail("cannot evaluate this node at import time")
        result = np.asarray(result)
        self.values[node.output[0]] = _Value(result.shape, const=result)

    # -- shape ops ---------------------------------------------------------------------------
    def reshape_target(self, shape, attrs):
        """The ONNX output shape of Reshape / Flatten / Squeeze / Unsqueeze for input `shape`."""
        op = self.node.op_type
        size = int(np.prod(shape, dtype=np.int64))
        if op == "Flatten":
            axis = attrs.get("axis", 1)
            axis += len(shape) if axis < 0 else 0
            return (int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis:], dtype=np.int64)))
        if op in ("Squeeze", "Unsqueeze"):
            axes = attrs.get("axes")
            if axes is None and len(self.node.input) > 1 and self.node.input[1]:
                axes = [int(x) for x in self.const(1, "axes").reshape(-1)]
            if op == "Squeeze":
                if axes is None:
                    return tuple(d for d in shape if d != 1)
                axes = {a + len(shape) if a < 0 else a for a in axes}
                if any(shape[a] != 1 for a in axes):
                    self.node_fail(f"cannot squeeze axes {sorted(axes)} of shape {list(shape)}")
                return tuple(d for i, d in enumerate(shape) if i not in axes)
            if axes is None:
                self.node_fail("Unsqueeze needs axes")
            rank = len(shape) + len(axes)
            axes = {a + rank if a < 0 else a for a in axes}
            rest = iter(shape)
            return tuple(1 if i in axes else next(rest) for i in range(rank))
        target = [int(x) for x in self.const(1, "the shape").reshape(-1)]
        if not attrs.get("allowzero", 0):
            target = [shape[i] if d == 0 and i < len(shape) else d for i, d in enumerate(target)]
        if target.count(-1) > 1:
            self.node_fail(f"shape {target} has more than one -1")
        if -1 in target:
            known = int(np.prod([d for d in target if d != -1], dtype=np.int64))
            if known == 0 or size % known:
                self.node_fail(f"cannot reshape {list(shape)} to {target}")
            target[target.index(-1)] = size // known
        if int(np.prod(target, dtype=np.int64)) != size or any(d < 0 for d in target):
            self.node_fail(f"cannot reshape {list(shape)} to {target}")
        return tuple(target)

    def reshape(self):
        v = self.act(0)
        target = self.reshape_target(v.shape, self.attrs(self.node))
        idx = v.flat_index()
        rank = len(target)
        count = int(np.prod(target, dtype=np.int64))
        layout = None
        candidates = [tuple(range(rank))] + ([NHWC] if rank == 4 else []) + \
            (list(itertools.permutations(range(rank))) if rank <= 5 else [])
        for order in candidates:
            if np.array_equal(idx, _order_index(target, order)):
                layout = (order, None)
                break
        if layout is None and rank == 2:
            # Rows of a flattened feature map: each row holds its own elements, permuted.
            rows = idx.reshape(target)
            colperm = rows[0].copy()
            if np.array_equal(rows, np.arange(target[0])[:, None] * target[1] + colperm[None, :]):
                layout = ((0, 1), colperm)
        if layout is None:
            self.node_fail(f"reshaping ONNX shape {list(v.shape)} (stored in axis order "
                           f"{list(v.order)}) to {list(target)} would need a transpose, which "
                           f"tinynet does not have")
        order, colperm = layout
        out = _Value(target, order=order, colperm=colperm, nonneg=v.nonneg)
        assert int(np.prod(out.stored_shape, dtype=np.int64)) == count
        if out.stored_shape == v.stored_shape:
            out.index = v.index
        else:
            out.index = self.new_tensor(self.out_name(), out.stored_shape)
            self.add_op("RESHAPE", [v.index], [out.index], new_shape=list(out.stored_shape))
        self.define(out)

    op_Reshape = op_Flatten = op_Squeeze = op_Unsqueeze = reshape

    def op_Transpose(self):
        v = self.act(0)
        rank = len(v.shape)
        perm = list(self.attrs(self.node).get("perm", list(range(rank))[::-1]))
        if sorted(perm) != list(range(rank)):
            self.node_fail(f"perm {perm} is not a permutation of {rank} axes")
        if v.colperm is not None:
            self.node_fail("transposing a flattened feature map is not supported")
        inverse = np.argsort(perm)
        order = tuple(int(inverse[a]) for a in v.order)
        out = _Value([v.shape[p] for p in perm], index=v.index, order=order, nonneg=v.nonneg)
        self.define(out)

    def op_Identity(self):
        self.define(self.act(0))

    def op_Dropout(self):
        a = self.attrs(self.node)
        if a.get("is_test", 1) == 0 and self.opset < 7:
            self.node_fail("Dropout in training mode is not supported")
        if len(self.node.input) > 2 and self.node.input[2]:
            mode = self.const(2, "training_mode")
            if bool(np.asarray(mode).reshape(-1)[0]):
                self.node_fail("Dropout with training_mode = true is not supported (export the "
                               "model in eval mode)")
        self.unused_outputs(1)
        self.define(self.act(0))

    def op_Concat(self):
        a = self.attrs(self.node)
        vs = [self.input(k) for k in range(len(self.node.input))]
        first = next((v for v in vs if v.const is None), None)
        if first is None or any(v.const is not None for v in vs):
            self.node_fail("concatenating constants with computed values is not supported")
        rank = len(first.shape)
        axis = a["axis"] + rank if a["axis"] < 0 else a["axis"]
        indices = [self.stored_as(v, first.order, "Concat needs its inputs in one layout")
                   for v in vs]
        shape = list(first.shape)
        shape[axis] = sum(v.shape[axis] for v in vs)
        out = self.activation_value(shape, first.order, nonneg=all(v.nonneg for v in vs))
        self.add_op("CONCATENATION", indices, [out.index], axis=first.order.index(axis),
                    fused_activation_function="NONE")
        self.define(out)

    def op_Pad(self):
        a = self.attrs(self.node)
        v = self.act(0)
        if a.get("mode", "constant") != "constant":
            self.node_fail(f"Pad mode '{a['mode']}' is not supported (constant only)")
        if self.opset >= 11:
            pads = [int(x) for x in self.const(1, "pads").reshape(-1)]
            value = self.const(2, "constant_value", required=False)
            value = 0.0 if value is None else float(np.asarray(value).reshape(-1)[0])
            if len(self.node.input) > 3 and self.node.input[3]:
                self.node_fail("Pad with axes is not supported")
        else:
            pads, value = list(a["pads"]), float(a.get("value", 0.0))
        rank = len(v.shape)
        if len(pads) != 2 * rank or min(pads) < 0:
            self.node_fail(f"pads {pads} (negative pads or wrong length) are not supported")
        if value != 0.0:
            self.node_fail(f"a pad value of {value} is not supported (0 only)")
        x = self.stored_as(v, v.order, "Pad")
        stored_pads = [[pads[a_], pads[a_ + rank]] for a_ in v.order]
        shape = [d + pads[i] + pads[i + rank] for i, d in enumerate(v.shape)]
        out = self.activation_value(shape, v.order, nonneg=v.nonneg)
        p = self.const_tensor(f"{self.out_name()}/paddings", np.array(stored_pads, np.int32), "int32")
        self.add_op("PAD", [x, p], [out.index])
        self.define(out)

    # -- convolution and pooling -------------------------------------------------------------
    def nchw_input(self, what):
        v = self.act(0)
        if len(v.shape) != 4:
            self.node_fail(f"{what} supports 4-D (N, C, H, W) inputs only, got shape {list(v.shape)}")
        return v, self.stored_as(v, NHWC, f"{what} needs an NCHW input it can read as NHWC")

    def onnx_pads(self, a, in_hw, kernel, strides, dilations):
        """ONNX's (top, left, bottom, right) padding, auto_pad resolved."""
        auto = a.get("auto_pad", "NOTSET")
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            pads = [0, 0, 0, 0]
            for axis in (0, 1):
                out = -(-in_hw[axis] // strides[axis])
                eff = (kernel[axis] - 1) * dilations[axis] + 1
                total = max((out - 1) * strides[axis] + eff - in_hw[axis], 0)
                before = total // 2 if auto == "SAME_UPPER" else total - total // 2
                pads[axis], pads[axis + 2] = before, total - before
            return pads
        if auto == "VALID":
            return [0, 0, 0, 0]
        if auto != "NOTSET":
            self.node_fail(f"auto_pad '{auto}' is not supported")
        pads = list(a.get("pads", [0, 0, 0, 0]))
        if len(pads) != 4 or min(pads) < 0:
            self.node_fail(f"pads {pads} are not supported (4 non-negative values for 2-D)")
        return pads

    def window(self, in_hw, kernel, strides, dilations, pads, ceil_mode=False):
        """(output size, TFLite padding modes that give exactly ONNX's windows)."""
        out_hw, modes = [], {"SAME", "VALID"}
        for axis in (0, 1):
            size, k, s, d = in_hw[axis], kernel[axis], strides[axis], dilations[axis]
            before, after = pads[axis], pads[axis + 2]
            eff = (k - 1) * d + 1
            span = size + before + after - eff
            if span < 0:
                self.node_fail(f"the kernel ({eff}) is larger than the padded input ({size + before + after})")
            out = (-(-span // s) if ceil_mode else span // s) + 1
            if ceil_mode and (out - 1) * s >= size + before:
                out -= 1                     # the last window must start inside the input
            out_hw.append(out)
            ok = set()
            if before == 0 and size >= eff and out == (size - eff) // s + 1:
                ok.add("VALID")
            if out == -(-size // s) and before == max((out - 1) * s + eff - size, 0) // 2:
                ok.add("SAME")
            modes &= ok
        return tuple(out_hw), modes

    def explicit_pad(self, x, stored_shape, pads, out_hw, kernel, strides, dilations, name):
        """PAD (zeros) so that a VALID window over the result gives out_hw outputs."""
        after = []
        for axis in (0, 1):
            eff = (kernel[axis] - 1) * dilations[axis] + 1
            need = (out_hw[axis] - 1) * strides[axis] + eff - stored_shape[1 + axis] - pads[axis]
            after.append(max(need, 0))
        padded = (stored_shape[0], stored_shape[1] + pads[0] + after[0],
                  stored_shape[2] + pads[1] + after[1], stored_shape[3])
        p = self.const_tensor(f"{name}/paddings", np.array(
            [[0, 0], [pads[0], after[0]], [pads[1], after[1]], [0, 0]], np.int32), "int32")
        out = self.new_tensor(f"{name}/padded", padded)
        self.add_op("PAD", [x, p], [out])
        return out

    def op_Conv(self):
        a = self.attrs(self.node)
        v, x = self.nchw_input("Conv")
        w = np.asarray(self.const(1, "the weights"), np.float32)
        bias = self.const(2, "the bias", required=False)
        n, c, h, wd = v.shape
        if w.ndim != 4:
            self.node_fail(f"only 2-D convolution is supported (weights {list(w.shape)})")
        out_c, in_per_group, kh, kw = w.shape
        group = a.get("group", 1)
        kernel = tuple(a.get("kernel_shape", (kh, kw)))
        strides = tuple(a.get("strides", (1, 1)))
        dilations = tuple(a.get("dilations", (1, 1)))
        if kernel != (kh, kw) or len(strides) != 2 or len(dilations) != 2 or min(strides + dilations) < 1:
            self.node_fail(f"kernel_shape {list(kernel)}, strides {list(strides)}, dilations "
                           f"{list(dilations)} do not fit weights {list(w.shape)}")
        pads = self.onnx_pads(a, (h, wd), kernel, strides, dilations)
        out_hw, modes = self.window((h, wd), kernel, strides, dilations, pads)
        name = self.out_name()
        if modes:
            padding = "VALID" if "VALID" in modes else "SAME"
        else:
            x = self.explicit_pad(x, v.stored_shape, pads, out_hw, kernel, strides, dilations, name)
            padding = "VALID"
        b = np.zeros(out_c, np.float32) if bias is None else np.asarray(bias, np.float32).reshape(-1)
        if b.size != out_c:
            self.node_fail(f"bias has {b.size} values, expected {out_c}")
        common = dict(padding=padding, stride_w=strides[1], stride_h=strides[0],
                      fused_activation_function="NONE", dilation_w_factor=dilations[1],
                      dilation_h_factor=dilations[0])
        out = self.activation_value((n, out_c, *out_hw), NHWC)
        if group == 1 and in_per_group == c:
            wi = self.const_tensor(f"{name}/weights", w.transpose(0, 2, 3, 1))
            bi = self.const_tensor(f"{name}/bias", b)
            self.add_op("CONV_2D", [x, wi, bi], [out.index], quantized_bias_type=0, **common)
        elif group == c and in_per_group == 1 and out_c % c == 0:
            wi = self.const_tensor(f"{name}/weights", w.transpose(1, 2, 3, 0))
            bi = self.const_tensor(f"{name}/bias", b)
            self.add_op("DEPTHWISE_CONV_2D", [x, wi, bi], [out.index],
                        depth_multiplier=out_c // c, **common)
        else:
            self.node_fail(f"grouped convolution with group={group} on {c} input channels is "
                           f"not supported (supported: group=1, or depthwise: group = input "
                           f"channels)")
        self.define(out)

    def op_MaxPool(self):
        self.pool("MAX_POOL_2D")

    def op_AveragePool(self):
        self.pool("AVERAGE_POOL_2D")

    def pool(self, opcode):
        a = self.attrs(self.node)
        v, x = self.nchw_input(self.node.op_type)
        self.unused_outputs(1)
        n, c, h, wd = v.shape
        kernel = tuple(a.get("kernel_shape", ()))
        strides = tuple(a.get("strides", (1, 1)))
        dilations = tuple(a.get("dilations", (1, 1)))
        if len(kernel) != 2 or len(strides) != 2:
            self.node_fail(f"only 2-D pooling is supported (kernel_shape {list(kernel)})")
        if dilations != (1, 1):
            self.node_fail(f"dilations {list(dilations)} are not supported for pooling (1, 1 only)")
        if a.get("storage_order", 0) != 0:
            self.node_fail("storage_order 1 is not supported")
        ceil_mode = bool(a.get("ceil_mode", 0))
        pads = self.onnx_pads(a, (h, wd), kernel, strides, dilations)
        out_hw, modes = self.window((h, wd), kernel, strides, dilations, pads, ceil_mode)
        include_pad = opcode == "AVERAGE_POOL_2D" and a.get("count_include_pad", 0) and any(pads)
        name = self.out_name()
        if include_pad:
            if ceil_mode:
                self.node_fail("AveragePool with count_include_pad=1 and ceil_mode=1 is not supported")
            modes = set()
        if modes:
            padding = "VALID" if "VALID" in modes else "SAME"
        elif opcode == "AVERAGE_POOL_2D" and not include_pad:
            self.node_fail(f"AveragePool pads {pads} (count_include_pad=0, ceil_mode="
                           f"{int(ceil_mode)}) match neither TFLite's SAME nor VALID padding "
                           f"and padding explicitly would change the averages")
        elif opcode == "MAX_POOL_2D" and not v.nonneg:
            self.node_fail(f"MaxPool pads {pads} match neither TFLite's SAME nor VALID "
                           f"padding; tinynet pads explicitly (with zeros) only inputs known to "
                           f"be >= 0, e.g. after a Relu")
        else:
            x = self.explicit_pad(x, v.stored_shape, pads, out_hw, kernel, strides, dilations, name)
            padding = "VALID"
        out = self.activation_value((n, c, *out_hw), NHWC, nonneg=v.nonneg)
        self.add_op(opcode, [x], [out.index], padding=padding, stride_w=strides[1],
                    stride_h=strides[0], filter_width=kernel[1], filter_height=kernel[0],
                    fused_activation_function="NONE")
        self.define(out)

    def op_GlobalAveragePool(self):
        v, x = self.nchw_input("GlobalAveragePool")
        out = self.activation_value((v.shape[0], v.shape[1], 1, 1), NHWC, nonneg=v.nonneg)
        axes = self.const_tensor(f"{self.out_name()}/axes", np.array([1, 2], np.int32), "int32")
        self.add_op("MEAN", [x, axes], [out.index], keep_dims=True)
        self.define(out)

    def op_GlobalMaxPool(self):
        v, x = self.nchw_input("GlobalMaxPool")
        out = self.activation_value((v.shape[0], v.shape[1], 1, 1), NHWC, nonneg=v.nonneg)
        self.add_op("MAX_POOL_2D", [x], [out.index], padding="VALID", stride_w=1, stride_h=1,
                    filter_width=v.shape[3], filter_height=v.shape[2],
                    fused_activation_function="NONE")
        self.define(out)

    def op_ReduceMean(self):
        a = self.attrs(self.node)
        v = self.act(0)
        rank = len(v.shape)
        axes = a.get("axes")
        if axes is None and len(self.node.input) > 1 and self.node.input[1]:
            axes = [int(x) for x in self.const(1, "axes").reshape(-1)]
        if axes is None:
            axes = list(range(rank))
        axes = sorted({x + rank if x < 0 else x for x in axes})
        keep = bool(a.get("keepdims", 1))
        if v.colperm is not None:
            self.node_fail("ReduceMean of a flattened feature map is not supported")
        stored_axes = [j for j, o in enumerate(v.order) if o in axes]
        if keep:
            shape, order = [1 if i in axes else d for i, d in enumerate(v.shape)], v.order
        else:
            shape = [d for i, d in enumerate(v.shape) if i not in axes]
            kept = [o for o in v.order if o not in axes]
            renumber = {o: k for k, o in enumerate(sorted(kept))}
            order = tuple(renumber[o] for o in kept)
        out = self.activation_value(shape, order, nonneg=v.nonneg)
        ax = self.const_tensor(f"{self.out_name()}/axes", np.array(stored_axes, np.int32), "int32")
        self.add_op("MEAN", [v.index, ax], [out.index], keep_dims=keep)
        self.define(out)

    # -- fully connected ---------------------------------------------------------------------
    def rows_input(self, what):
        v = self.act(0)
        if len(v.shape) != 2:
            self.node_fail(f"{what} supports 2-D inputs [batch, features] only, got "
                           f"{list(v.shape)} (Flatten first)")
        if v.order != (0, 1):
            x = self.stored_as(v, (0, 1), what)
            return x, None
        return v.index, v.colperm

    def fully_connected(self, weights, bias, x, colperm, rows):
        """weights [units, in] in ONNX column order."""
        if colperm is not None:
            weights = weights[:, colperm]
        name = self.out_name()
        units = weights.shape[0]
        wi = self.const_tensor(f"{name}/weights", weights)
        bi = self.const_tensor(f"{name}/bias", bias)
        out = self.activation_value((rows, units), (0, 1))
        self.add_op("FULLY_CONNECTED", [x, wi, bi], [out.index], fused_activation_function="NONE",
                    weights_format=0, keep_num_dims=False, asymmetric_quantize_inputs=False,
                    quantized_bias_type=0)
        self.define(out)

    def op_Gemm(self):
        a = self.attrs(self.node)
        if a.get("transA", 0):
            self.node_fail("transA=1 is not supported")
        x, colperm = self.rows_input("Gemm")
        rows, depth = self.values[self.node.input[0]].shape
        b = np.asarray(self.const(1, "B (the weights)"), np.float64)
        if b.ndim != 2:
            self.node_fail(f"B must be 2-D, got {list(b.shape)}")
        w = b if a.get("transB", 0) else b.T
        if w.shape[1] != depth:
            self.node_fail(f"weights {list(w.shape)} (units, inputs) do not fit input depth {depth}")
        w = w * a.get("alpha", 1.0)
        units = w.shape[0]
        c = self.const(2, "C (the bias)", required=False)
        bias = np.zeros(units)
        if c is not None:
            c = np.asarray(c, np.float64)
            if c.size == 1:
                bias = np.full(units, c.reshape(-1)[0])
            elif c.shape[-1] == units and c.size == units:
                bias = c.reshape(-1)
            else:
                self.node_fail(f"C of shape {list(c.shape)} is not supported (a scalar or "
                               f"[{units}] / [1, {units}])")
            bias = bias * a.get("beta", 1.0)
        self.fully_connected(w.astype(np.float32), bias.astype(np.float32), x, colperm, rows)

    def op_MatMul(self):
        x, colperm = self.rows_input("MatMul")
        rows, depth = self.values[self.node.input[0]].shape
        b = np.asarray(self.const(1, "the second operand (weights)"), np.float32)
        if b.ndim != 2 or b.shape[0] != depth:
            self.node_fail(f"weights {list(b.shape)} do not fit input depth {depth}")
        self.fully_connected(np.ascontiguousarray(b.T), np.zeros(b.shape[1], np.float32), x,
                             colperm, rows)

    # -- element-wise ------------------------------------------------------------------------
    def unary(self, opcode, nonneg=False, **options):
        v = self.act(0)
        out = self.activation_value(v.shape, v.order, colperm=v.colperm, nonneg=nonneg)
        self.add_op(opcode, [v.index], [out.index], **options)
        self.define(out)

    def op_Relu(self):
        self.unary("RELU", nonneg=True)

    def op_Sigmoid(self):
        self.unary("LOGISTIC", nonneg=True)

    def op_Tanh(self):
        self.unary("TANH")

    def op_LeakyRelu(self):
        self.unary("LEAKY_RELU", alpha=np.float32(self.attrs(self.node).get("alpha", 0.01)))

    def op_Clip(self):
        a = self.attrs(self.node)
        if self.opset >= 11:
            lo = self.const(1, "min", required=False)
            hi = self.const(2, "max", required=False)
            lo = None if lo is None else float(np.asarray(lo).reshape(-1)[0])
            hi = None if hi is None else float(np.asarray(hi).reshape(-1)[0])
        else:
            lo, hi = a.get("min"), a.get("max")
        big = float(np.finfo(np.float32).max)
        lo = None if lo is None or lo <= -big else lo
        hi = None if hi is None or hi >= big else hi
        for opcode, (want_lo, want_hi) in _RELUS.items():
            if lo == want_lo and hi == want_hi:
                self.unary(opcode, nonneg=want_lo >= 0)
                return
        self.node_fail(f"Clip({lo}, {hi}) is not supported (supported: Clip(0, 6) = Relu6, "
                       f"Clip(0, inf) = Relu, Clip(-1, 1))")

    def op_Softmax(self):
        a = self.attrs(self.node)
        v = self.act(0)
        rank = len(v.shape)
        axis = a.get("axis", -1 if self.opset >= 13 else 1)
        axis += rank if axis < 0 else 0
        axes = {axis} if self.opset >= 13 else set(range(axis, rank))
        reduced = {x for x in axes if v.shape[x] > 1}
        last = v.order[-1]
        if reduced != ({last} if v.shape[last] > 1 else set()):
            self.node_fail(f"Softmax over axis {a.get('axis')} of ONNX shape {list(v.shape)} is "
                           f"not over the innermost stored axis (tinynet's SOFTMAX works on the "
                           f"last axis: channels for NCHW maps, features for rows)")
        out = self.activation_value(v.shape, v.order, colperm=v.colperm, nonneg=True)
        self.add_op("SOFTMAX", [v.index], [out.index], beta=np.float32(1.0))
        self.define(out)

    def op_BatchNormalization(self):
        a = self.attrs(self.node)
        if a.get("training_mode", 0):
            self.node_fail("BatchNormalization with training_mode=1 is not supported")
        self.unused_outputs(1)
        v = self.act(0)
        gamma, beta, mean, var = (np.asarray(self.const(k, what), np.float64).reshape(-1)
                                  for k, what in ((1, "scale"), (2, "B"), (3, "mean"), (4, "var")))
        if len(v.shape) < 2 or any(p.size != v.shape[1] for p in (gamma, beta, mean, var)):
            self.node_fail(f"parameters do not fit the input's {v.shape[1:2]} channels")
        scale = gamma / np.sqrt(var + a.get("epsilon", 1e-5))
        shift = beta - mean * scale
        shape = [1] * len(v.shape)
        shape[1] = v.shape[1]
        self.affine(v, scale.reshape(shape), shift.reshape(shape))

    def affine(self, v, scale, shift):
        """y = x * scale + shift with constants broadcast along the stored last axis."""
        s = self.stored_constant(scale, v)
        t = self.stored_constant(shift, v)
        s = None if s is None else self.last_axis_vector(s, v.stored_shape)
        t = None if t is None else self.last_axis_vector(t, v.stored_shape)
        if s is None or t is None:
            self.node_fail(f"the constant operand does not vary only along the channels "
                           f"(innermost stored axis) of ONNX shape {list(v.shape)}; tinynet "
                           f"has no general MUL/ADD with a constant tensor")
        out = self.activation_value(v.shape, v.order, colperm=v.colperm)
        self.add_op("AFFINE", [v.index], [out.index], scale=s, shift=t)
        self.define(out)

    def binary(self, kind):
        va, vb = self.input(0), self.input(1)
        if va.const is not None and vb.const is not None:
            self.node_fail("both operands are constants")
        if va.const is None and vb.const is None:
            if kind in ("Mul", "Div"):
                self.node_fail(f"{kind} of two computed tensors is not supported (tinynet has no "
                               f"MUL/DIV op); {kind} by a per-channel constant is")
            if va.shape != vb.shape:
                self.node_fail(f"broadcasting between computed tensors {list(va.shape)} and "
                               f"{list(vb.shape)} is not supported")
            xb = self.stored_as(vb, va.order, f"{kind} needs both operands in one layout") \
                if va.colperm is None else None
            if xb is None:
                if vb.colperm is None or not np.array_equal(va.colperm, vb.colperm):
                    self.node_fail(f"{kind} needs both operands in one layout")
                xb = vb.index
            out = self.activation_value(va.shape, va.order, colperm=va.colperm)
            self.add_op("ADD" if kind == "Add" else "SUB", [va.index, xb], [out.index],
                        fused_activation_function="NONE", pot_scale_int16=True)
            self.define(out)
            return
        x, c, const_first = (va, vb.const, False) if va.const is None else (vb, va.const, True)
        c = np.asarray(c, np.float64)
        try:
            if np.broadcast_shapes(c.shape, x.shape) != x.shape:
                raise ValueError
        except ValueError:
            self.node_fail(f"the constant {list(c.shape)} would broadcast the computed operand "
                           f"{list(x.shape)} to a larger shape (not supported)")
        one, zero = np.ones(()), np.zeros(())
        if kind == "Mul":
            scale, shift = c, zero
        elif kind == "Div":
            if const_first:
                self.node_fail("dividing a constant by a computed tensor is not supported")
            scale, shift = 1.0 / c, zero
        elif kind == "Sub" and const_first:
            scale, shift = -one, c
        else:
            scale, shift = one, (-c if kind == "Sub" else c)
        if kind in ("Add", "Sub") and not (kind == "Sub" and const_first):
            stored = self.stored_constant(shift, x)
            if self.last_axis_vector(stored, x.stored_shape) is None:
                # A constant of (nearly) the full shape: a plain ADD with a constant operand
                # (a tinynet::ConstantTensor in the header).
                ci = self.const_tensor(f"{self.out_name()}/constant", stored)
                out = self.activation_value(x.shape, x.order, colperm=x.colperm)
                self.add_op("ADD", [x.index, ci], [out.index], fused_activation_function="NONE",
                            pot_scale_int16=True)
                self.define(out)
                return
        self.affine(x, scale, shift)

    def op_Add(self):
        self.binary("Add")

    def op_Sub(self):
        self.binary("Sub")

    def op_Mul(self):
        self.binary("Mul")

    def op_Div(self):
        self.binary("Div")

    # -- fusion and lowering -----------------------------------------------------------------
    def finish_ops(self):
        """Folds AFFINE and relu pseudo ops into their producer where TFLite's converter would,
        lowers the rest to supported ops."""
        readers = {}
        for op in self.ops:
            for i in op.inputs:
                readers[i] = readers.get(i, 0) + 1
        pinned = set(self.output_indices) | set(v.index for v in self.input_values)
        result = []
        producer = {}

        def sole_producer(index):
            op = producer.get(index)
            if op is None or readers.get(index, 0) != 1 or index in pinned:
                return None
            return op

        def place(op):
            x = op.inputs[0]
            prev = sole_producer(x)
            if op.opcode in _RELUS and prev is not None and prev.opcode in _FUSE_ACTIVATION_INTO \
                    and prev.options.get("fused_activation_function") == "NONE":
                prev.options["fused_activation_function"] = op.opcode
                self.retarget(prev, op, producer)
                return
            if op.opcode == "AFFINE" and prev is not None and prev.opcode in _WEIGHTED and \
                    prev.options["fused_activation_function"] == "NONE":
                self.fold_affine(prev, op.options["scale"], op.options["shift"])
                self.retarget(prev, op, producer)
                return
            first_new = len(self.tensors)
            lowered = self.lower(op) if op.opcode in _RELUS or op.opcode == "AFFINE" else [op]
            for new in lowered:
                for i in new.inputs:
                    if i >= first_new:
                        readers[i] = readers.get(i, 0) + 1
                result.append(new)
                producer[new.outputs[0]] = new

        for op in self.ops:
            tail = None
            prev = sole_producer(op.inputs[0]) if op.inputs else None
            if (op.opcode in _RELUS or op.opcode == "AFFINE") and prev is not None and \
                    prev.opcode == "RESHAPE":
                # An element-wise op commutes with a reshape (AFFINE: if the channel axis
                # survives it): run it before, so it can fold into what precedes the reshape.
                src, y = prev.inputs[0], op.outputs[0]
                src_shape, x_shape = self.tensors[src].shape, self.tensors[op.inputs[0]].shape
                if op.opcode != "AFFINE" or (src_shape and x_shape and src_shape[-1] == x_shape[-1]):
                    result.remove(prev)
                    del producer[prev.outputs[0]]
                    tmp = self.new_tensor(f"{self.tensors[y].name}/unreshaped", src_shape)
                    op.inputs, op.outputs = [src], [tmp]
                    readers[tmp] = 1
                    tail = Op(-1, "RESHAPE", [tmp], [y], {"new_shape": list(self.tensors[y].shape)})
            place(op)
            if tail is not None:
                result.append(tail)
                producer[tail.outputs[0]] = tail
        self.ops = self.collapse_reshapes(result, readers, pinned)

    def collapse_reshapes(self, ops, readers, pinned):
        """RESHAPE(RESHAPE(x)) -> RESHAPE(x); a RESHAPE to the same shape disappears."""
        producer = {}
        result = []
        rename = {}
        for op in ops:
            op.inputs = [rename.get(i, i) for i in op.inputs]
            if op.opcode == "RESHAPE":
                prev = producer.get(op.inputs[0])
                x = op.inputs[0]
                if prev is not None and prev.opcode == "RESHAPE" and readers.get(x, 0) == 1 \
                        and x not in pinned:
                    result.remove(prev)
                    op.inputs = [prev.inputs[0]]
                src, dst = op.inputs[0], op.outputs[0]
                if self.tensors[src].shape == self.tensors[dst].shape and dst not in pinned:
                    rename[dst] = src
                    readers[src] = readers.get(src, 0) - 1 + readers.get(dst, 0)
                    continue
            result.append(op)
            producer[op.outputs[0]] = op
        return result

    def retarget(self, prev, op, producer):
        del producer[prev.outputs[0]]
        prev.outputs = [op.outputs[0]]
        producer[op.outputs[0]] = prev

    def fold_affine(self, prev, scale, shift):
        w = self.tensors[prev.inputs[1]]
        b = self.tensors[prev.inputs[2]]
        s = scale.astype(np.float64)
        if prev.opcode == "DEPTHWISE_CONV_2D":
            wd = w.data.astype(np.float64) * s                    # [1, kh, kw, C]
        else:
            wd = w.data.astype(np.float64) * s.reshape((-1,) + (1,) * (w.data.ndim - 1))
        bd = b.data.astype(np.float64) * s + shift.astype(np.float64)
        for t, d in ((w, wd), (b, bd)):
            t.data = d.astype(np.float32)
            t.data.setflags(write=False)

    def lower(self, op):
        """RELU* -> 1x1 MAX_POOL_2D with that activation; AFFINE -> 1x1 DEPTHWISE_CONV_2D."""
        x, y = op.inputs[0], op.outputs[0]
        shape = self.tensors[x].shape
        channels = shape[-1] if shape else 1
        if op.opcode == "AFFINE":
            four = shape if len(shape) == 4 else (1, 1, int(np.prod(shape, dtype=np.int64)) // channels, channels)
        else:
            four = shape if len(shape) == 4 else (1, 1, 1, int(np.prod(shape, dtype=np.int64)))
        ops = []
        name = self.tensors[y].name
        src, dst = x, y
        if four != shape:
            src = self.new_tensor(f"{name}/in4d", four)
            ops.append(Op(-1, "RESHAPE", [x], [src], {"new_shape": list(four)}))
            dst = self.new_tensor(f"{name}/out4d", four)
        if op.opcode == "AFFINE":
            wi = self.const_tensor(f"{name}/weights", op.options["scale"].reshape(1, 1, 1, -1))
            bi = self.const_tensor(f"{name}/bias", op.options["shift"])
            ops.append(Op(-1, "DEPTHWISE_CONV_2D", [src, wi, bi], [dst], dict(
                padding="VALID", stride_w=1, stride_h=1, depth_multiplier=1,
                fused_activation_function="NONE", dilation_w_factor=1, dilation_h_factor=1)))
        else:
            ops.append(Op(-1, "MAX_POOL_2D", [src], [dst], dict(
                padding="VALID", stride_w=1, stride_h=1, filter_width=1, filter_height=1,
                fused_activation_function=op.opcode)))
        if four != shape:
            ops.append(Op(-1, "RESHAPE", [dst], [y], {"new_shape": list(shape)}))
        return ops

    # -- the model ---------------------------------------------------------------------------
    def build_model(self, inputs, outputs):
        used = set(inputs) | set(outputs)
        for op in self.ops:
            used.update(i for i in op.inputs if i >= 0)
            used.update(op.outputs)
        remap, tensors = {}, []
        for t in self.tensors:
            if t.index in used:
                remap[t.index] = len(tensors)
                t.index = len(tensors)
                tensors.append(t)
        for k, op in enumerate(self.ops):
            op.index = k
            op.inputs = [remap[i] if i >= 0 else -1 for i in op.inputs]
            op.outputs = [remap[i] for i in op.outputs]
        if not self.ops:
            self.fail("the model computes nothing (no operations between inputs and outputs)")
        producer = self.proto.producer_name or "unknown producer"
        parts = [f"Imported from ONNX (opset {self.opset}, {producer}); tinynet is NHWC"]
        parts += self.notes
        return Model(path=self.path, sha256=self.sha256, tensors=tensors, ops=self.ops,
                     inputs=[remap[i] for i in inputs], outputs=[remap[i] for i in outputs],
                     description="; ".join(parts) + ".", subgraph_name=self.graph.name,
                     nchw_shapes={remap[i]: s for i, s in self.nchw_shapes.items()})
