"""Reads an ONNX model (float32, static shapes) into tinynet's IR.

    load_onnx(path) -> ir.Model

The result is a float32 model of TFLite-style ops that reference.Interpreter runs and
emit.py turns into C++; quantize it afterwards like any float model.

- reader.py: the protobuf, external data (--allow-external-data, the model's folder only),
  initializers, attributes;
- layout.py: NCHW/NHWC tracking (which axis order each ONNX value is stored in), graph inputs
  and outputs;
- translators.py: one function per ONNX operator, in a table that names the registry ops each
  emits (SUPPORTED_ONNX_OPS is the table's keys);
- passes.py: whole-graph rewrites (fusing BatchNormalization, per-channel Mul/Add and Relu/Clip
  into the op before, as TFLite's converter does; lowering what cannot be fused);
- importer.py: the walk over the graph that ties them together, building the IR with ir.Builder.

Anything unsupported raises ModelError naming the node and listing the supported ops.
"""

from .importer import Importer
from .reader import read_model
from .translators import supported_onnx_ops

# ONNX operators (default domain) the importer understands.
SUPPORTED_ONNX_OPS = supported_onnx_ops()


def load_onnx(path, allow_external_data=False):
    """Parses the ONNX file `path` into a float32 ir.Model (see the module docstring). Tensors kept
    in external files are read only with allow_external_data, and only from the model's folder."""
    path = str(path)
    proto, sha256 = read_model(path, allow_external_data)
    model = Importer(proto, path, sha256).run()
    # Every kernel's prepare() checks shapes and options: an inconsistency is caught here.
    from ..reference import Interpreter
    Interpreter(model)
    return model
