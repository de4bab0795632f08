"""The importer's state while it walks the graph: the ONNX values seen so far, the IR being
built (an ir.Builder), and the helpers the translators use to read inputs and report errors."""

from ..errors import ModelError
from ..ir import Builder
from . import layout, passes, reader, translators
from .layout import Value


class Importer:
    def __init__(self, proto, path, sha256):
        self.proto = proto
        self.graph = proto.graph
        self.path = path
        self.sha256 = sha256
        self.opset = reader.opset(proto)
        self.builder = Builder()
        self.values = {}
        self.notes = []
        self.nchw_shapes = {}         # IR tensor index -> ONNX NCHW shape of an NHWC graph input/output
        self.node = None
        self.consumed = {}

    @property
    def tensors(self):
        return self.builder.tensors

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
        return reader.attributes(node)

    def new_tensor(self, name, shape, data=None, dtype="float32"):
        return self.builder.tensor(name, shape, data, dtype)

    def const_tensor(self, name, data, dtype="float32", shared=False):
        return self.builder.constant(name, data, dtype, shared=shared)

    def add_op(self, opcode, inputs, outputs, **options):
        return self.builder.op(opcode, inputs, outputs, **options)

    def out_name(self, k=0):
        return self.node.output[k]

    def activation_value(self, shape, order, name=None, colperm=None, nonneg=False):
        v = Value(shape, order=order, colperm=colperm, nonneg=nonneg)
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


    # -- the graph ---------------------------------------------------------------------------
    def run(self):
        g = self.graph
        for node in g.node:
            for name in node.input:
                self.consumed.setdefault(name, []).append(node)
        output_names = [o.name for o in g.output]
        for name in output_names:
            self.consumed.setdefault(name, []).append(None)
        init = reader.initializers(g, self.path)
        for name, array in init.items():
            self.values[name] = Value(array.shape, const=array)
        inputs = []
        for vi in g.input:
            if vi.name in init:
                continue
            inputs.append(layout.graph_input(self, vi))
        if not inputs:
            self.fail("the graph has no (non-constant) input")
        for node in g.node:
            self.node = node
            if node.domain not in ("", "ai.onnx"):
                self.node_fail(f"operator domain '{node.domain}' is not supported (only the "
                               f"default ONNX domain; supported ops: {translators.supported_onnx_ops_text()})")
            entry = translators.TRANSLATORS.get(node.op_type)
            if entry is None:
                self.node_fail(f"ONNX operator {node.op_type} is not supported (supported: "
                               f"{translators.supported_onnx_ops_text()})")
            if entry.constant_only or (
                    entry.foldable and node.input and all(
                        n == "" or (n in self.values and self.values[n].const is not None)
                        for n in node.input)):
                if node.op_type != "Shape" and any(
                        n and n in self.values and self.values[n].const is None for n in node.input):
                    self.node_fail(f"{node.op_type} is supported on constants only (shape "
                                   f"arithmetic), not on computed values")
                translators.fold_constant(self, node)
                continue
            first = len(self.builder.ops)
            entry.translate(self)
            emitted = {op.opcode for op in self.builder.ops[first:]}
            if not emitted <= set(entry.targets):       # the table says what each translator emits
                raise AssertionError(f"{node.op_type} emitted {sorted(emitted - set(entry.targets))}, "
                                     f"not in its declared targets {entry.targets}")
        self.node = None
        outputs = [layout.graph_output(self, vi) for vi in g.output]
        pinned = set(outputs) | set(v.index for v in inputs)
        self.builder.ops = passes.fuse_and_lower(self.builder, pinned)
        if not self.builder.ops:
            self.fail("the model computes nothing (no operations between inputs and outputs)")
        producer = self.proto.producer_name or "unknown producer"
        parts = [f"Imported from ONNX (opset {self.opset}, {producer}); tinynet is NHWC"]
        parts += self.notes
        return self.builder.model(self.path, self.sha256, [v.index for v in inputs], outputs,
                                  nchw_shapes=self.nchw_shapes, description="; ".join(parts) + ".",
                                  subgraph_name=self.graph.name)
