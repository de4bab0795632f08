"""Writes a Model as one C++ header: constexpr weights plus a tinynet::Network type.

The header layout (see docs/design.md for the C++ side):
  1. a comment block a person can read: source file and hash, ops, shapes, quantization, totals;
  2. one `tinynet::Quant` and one tensor struct per activation tensor;
  3. the constant arrays of each op (flat, TFLite's own layouts: OHWI, 1HWO, [units][inputs]);
  4. one `using` per op and the `network` type listing them in execution order.
The header is written atomically: to a temporary file in the same folder, then renamed.
"""

import os
import re
import struct
import tempfile
import zlib

import numpy as np

from .errors import ModelError, UsageError
from .safe_text import escape

ELEMENT_TYPES = {"int8": "std::int8_t", "int16": "std::int16_t", "int32": "std::int32_t",
                 "float32": "float"}
ARRAY_DTYPES = {"std::int8_t": "<i1", "std::int16_t": "<i2", "std::int32_t": "<i4", "std::int64_t": "<i8",
                "float": "<f4"}
ACTIVATIONS = {"NONE": "none", "RELU": "relu", "RELU6": "relu6", "RELU_N1_TO_1": "relu_n1_to_1"}


def cpp_float(value):
    """A float32 literal that reads back as exactly the same float."""
    v = np.float32(value)
    if not np.isfinite(v):
        raise ValueError(f"non-finite constant {v}")
    text = "%.9g" % v  # nine significant digits always read back as the same float32
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def cpp_array(ctype, name, values, per_line=24):
    flat = np.asarray(values).reshape(-1)
    if ctype == "float":
        items = [cpp_float(v) for v in flat]
    else:
        items = [str(int(v)) for v in flat]
    lines = []
    for i in range(0, len(items), per_line):
        lines.append("    " + ", ".join(items[i:i + per_line]) + ",")
    body = "\n".join(lines)
    return f"inline constexpr {ctype} {name}[{len(items)}] = {{\n{body}\n}};\n"


def identifier(text):
    ident = re.sub(r"[^0-9A-Za-z_]", "_", text)
    return ident if ident and not ident[0].isdigit() else "_" + ident


class _Emitter:
    def __init__(self, model, namespace):
        self.model = model
        self.namespace = namespace
        self.activation_tensors = []
        self.lines_tensors = []
        self.lines_constants = []
        self.lines_ops = []
        self.op_names = []
        self.summary_rows = []
        self.arrays = []           # (name, bytes) of every constant array, in header order

    # -- helpers --------------------------------------------------------------------------
    def add_array(self, ctype, name, values):
        """Emits a constant array and keeps its bytes (little-endian, as the C++ array holds them)
        for the header's arrays_crc32."""
        self.lines_constants.append(cpp_array(ctype, name, values))
        dtype = ARRAY_DTYPES[ctype]
        self.arrays.append((name, np.asarray(values).reshape(-1).astype(dtype).tobytes()))

    def fail(self, op, detail):
        raise ModelError(self.model.path, f"op {op.index} ({op.opcode}): {detail}")

    def tensor_name(self, index):
        return f"t{index}"

    def const(self, index):
        t = self.model.tensors[index]
        if t.data is None:
            return None
        return t

    def activation(self, op):
        act = op.options.get("fused_activation_function", "NONE")
        if act not in ACTIVATIONS:
            self.fail(op, f"fused activation {act} is not supported (supported: "
                          f"{', '.join(ACTIVATIONS)})")
        return "tinynet::Activation::" + ACTIVATIONS[act]

    def padding(self, op):
        pad = op.options.get("padding", "VALID")
        if pad not in ("SAME", "VALID"):
            self.fail(op, f"padding {pad} is not supported (supported: SAME, VALID)")
        return "tinynet::Padding::" + pad.lower()

    # -- tensors ---------------------------------------------------------------------------
    def declare_tensor(self, index):
        t = self.model.tensors[index]
        if t.dtype not in ELEMENT_TYPES:
            raise ModelError(self.model.path, f"tensor {index} ('{t.name}'): dtype {t.dtype} is not "
                                              f"supported for activations (supported: int8, int16, "
                                              f"int32, float32)")
        name = self.tensor_name(index)
        shape = ", ".join(str(int(d)) for d in t.shape) if len(t.shape) else "1"
        element = ELEMENT_TYPES[t.dtype]
        comment = f"// '{escape(t.name)}'"
        if t.dtype == "float32" or not t.is_quantized:
            self.lines_tensors.append(
                f"{comment}\nstruct {name} : tinynet::Tensor<{element}, tinynet::Shape<{shape}>> {{}};\n")
        else:
            if t.per_channel:
                raise ModelError(self.model.path, f"tensor {index} ('{t.name}'): per-channel "
                                                  f"quantization of an activation is not supported")
            self.lines_tensors.append(
                f"{comment}\ninline constexpr tinynet::Quant {name}_quant{{{cpp_float(t.scale_scalar)}, "
                f"{t.zero_point_scalar}}};\n"
                f"struct {name} : tinynet::Tensor<{element}, tinynet::Shape<{shape}>, {name}_quant> {{}};\n")

    # -- weighted ops ----------------------------------------------------------------------
    def weight_arrays(self, op, prefix, weights_index, bias_index, weights_data=None):
        w = self.const(weights_index)
        if w is None:
            self.fail(op, "the weights must be constant")
        names = {}
        wtype = ELEMENT_TYPES.get(w.dtype)
        if w.dtype not in ("int8", "float32"):
            self.fail(op, f"weights of dtype {w.dtype} are not supported (supported: int8, float32)")
        names["weights"] = f"{prefix}_weights"
        self.add_array(wtype, names["weights"], w.data if weights_data is None else weights_data)
        if bias_index is not None and bias_index >= 0:
            b = self.const(bias_index)
            if b is None:
                self.fail(op, "the bias must be constant")
            if b.dtype not in ("int32", "float32", "int64"):
                self.fail(op, f"bias of dtype {b.dtype} is not supported (supported: int32, float32)")
            names["bias"] = f"{prefix}_bias"
            btype = {"int32": "std::int32_t", "float32": "float", "int64": "std::int64_t"}[b.dtype]
            self.add_array(btype, names["bias"], b.data)
        else:
            names["bias"] = "tinynet::no_bias"
        if w.dtype == "int8":
            if not w.is_quantized:
                self.fail(op, "int8 weights without quantization parameters")
            if np.any(w.zero_point != 0):
                self.fail(op, "weights must be symmetric (zero point 0), as the TFLite int8 spec requires")
            names["scales"] = f"{prefix}_weight_scales"
            self.add_array("float", names["scales"], w.scale)
        else:
            names["scales"] = "tinynet::no_scales"
        return names, w

    def op_fully_connected(self, op, prefix, ins, out):
        if op.options.get("weights_format", 0) not in (0, "DEFAULT"):
            self.fail(op, "shuffled weights formats are not supported (supported: DEFAULT)")
        names, w = self.weight_arrays(op, prefix, op.inputs[1], op.inputs[2] if len(op.inputs) > 2 else -1)
        if len(w.shape) != 2:
            self.fail(op, f"weights of rank {len(w.shape)} (expected 2)")
        options = self.activation(op)
        form = SPARSE_FORM_NAMES.get(getattr(self, "sparse", "auto"))
        if form:   # 'auto' is the library's default (SparseForm::automatic)
            options += f", tinynet::SparseForm::{form}"
        return (f"tinynet::FullyConnected<{ins[0]}, {out}, {names['weights']}, {names['bias']}, "
                f"{names['scales']},\n    tinynet::FullyConnectedOptions{{{options}}}>")

    def op_conv_2d(self, op, prefix, ins, out, weights_layout=None):
        names, w = self.weight_arrays(op, prefix, op.inputs[1], op.inputs[2] if len(op.inputs) > 2 else -1,
                                      weights_data=weights_layout)
        if len(w.shape) != 4:
            self.fail(op, f"weights of rank {len(w.shape)} (expected 4, OHWI)")
        kernel_h, kernel_w = (w.shape[1], w.shape[2])
        o = op.options
        return (f"tinynet::Conv2D<{ins[0]}, {out}, {names['weights']}, {names['bias']}, {names['scales']},\n"
                f"    tinynet::Conv2DOptions{{.kernel_h = {kernel_h}, .kernel_w = {kernel_w}, "
                f".stride_h = {o.get('stride_h', 1)}, .stride_w = {o.get('stride_w', 1)}, "
                f".dilation_h = {o.get('dilation_h_factor', 1)}, .dilation_w = {o.get('dilation_w_factor', 1)},\n"
                f"                           .padding = {self.padding(op)}, .activation = {self.activation(op)}}}>")

    def op_depthwise_conv_2d(self, op, prefix, ins, out):
        in_channels = self.model.tensors[op.inputs[0]].shape[-1]
        w_tensor = self.const(op.inputs[1])
        if in_channels == 1 and w_tensor is not None and len(w_tensor.shape) == 4 and w_tensor.data is not None:
            # One input channel: the depthwise filters [1][kh][kw][M] are an ordinary convolution
            # with M output channels, OHWI [M][kh][kw][1] -- same sums, the faster kernel.
            return self.op_conv_2d(op, prefix, ins, out, weights_layout=np.transpose(w_tensor.data, (3, 1, 2, 0)))
        names, w = self.weight_arrays(op, prefix, op.inputs[1], op.inputs[2] if len(op.inputs) > 2 else -1)
        if len(w.shape) != 4 or w.shape[0] != 1:
            self.fail(op, f"weights of shape {w.shape} (expected [1, kh, kw, out_channels])")
        in_channels = self.model.tensors[op.inputs[0]].shape[-1]
        out_channels = w.shape[3]
        if out_channels % in_channels:
            self.fail(op, f"{out_channels} output channels is not a multiple of {in_channels} input channels")
        o = op.options
        return (f"tinynet::DepthwiseConv2D<{ins[0]}, {out}, {names['weights']}, {names['bias']}, {names['scales']},\n"
                f"    tinynet::DepthwiseConv2DOptions{{.kernel_h = {w.shape[1]}, .kernel_w = {w.shape[2]}, "
                f".stride_h = {o.get('stride_h', 1)}, .stride_w = {o.get('stride_w', 1)}, "
                f".dilation_h = {o.get('dilation_h_factor', 1)}, .dilation_w = {o.get('dilation_w_factor', 1)},\n"
                f"                                    .depth_multiplier = {out_channels // in_channels}, "
                f".padding = {self.padding(op)}, .activation = {self.activation(op)}}}>")

    def op_pool(self, op, prefix, ins, out):
        kind = "AveragePool2D" if op.opcode == "AVERAGE_POOL_2D" else "MaxPool2D"
        o = op.options
        return (f"tinynet::{kind}<{ins[0]}, {out},\n    tinynet::Pool2DOptions{{.filter_h = {o['filter_height']}, "
                f".filter_w = {o['filter_width']}, .stride_h = {o.get('stride_h', 1)}, "
                f".stride_w = {o.get('stride_w', 1)}, .padding = {self.padding(op)}, "
                f".activation = {self.activation(op)}}}>")

    def op_mean(self, op, prefix, ins, out):
        axis = self.const(op.inputs[1])
        if axis is None or sorted(int(a) % 4 for a in axis.data.reshape(-1)) != [1, 2] or \
                len(self.model.tensors[op.inputs[0]].shape) != 4:
            self.fail(op, "only the mean over height and width (axis [1, 2]) of a 4-D tensor is supported")
        return f"tinynet::Mean<{ins[0]}, {out}>"

    def op_add_sub(self, op, prefix, ins, out):
        kind = "Add" if op.opcode == "ADD" else "Sub"
        return (f"tinynet::{kind}<{ins[0]}, {ins[1]}, {out}, "
                f"tinynet::ArithmeticOptions{{{self.activation(op)}}}>")

    def op_concatenation(self, op, prefix, ins, out):
        axis = op.options.get("axis", 0)
        return (f"tinynet::Concatenation<{out}, tinynet::ConcatenationOptions{{.axis = {axis}, "
                f".activation = {self.activation(op)}}}, {', '.join(ins)}>")

    def op_pad(self, op, prefix, ins, out):
        pads = self.const(op.inputs[1])
        if pads is None:
            self.fail(op, "the paddings must be constant")
        p = pads.data.reshape(-1, 2).astype(np.int64)
        if len(p) > 4:
            self.fail(op, f"padding a rank-{len(p)} tensor is not supported (rank <= 4)")
        before = ", ".join(str(int(v)) for v in list(p[:, 0]) + [0] * (4 - len(p)))
        after = ", ".join(str(int(v)) for v in list(p[:, 1]) + [0] * (4 - len(p)))
        value = ""
        if op.opcode == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
            c = self.const(op.inputs[2])
            if c is None:
                self.fail(op, "the pad value must be constant")
            if c.dtype == "float32":
                if float(c.data.reshape(-1)[0]) != 0.0:
                    self.fail(op, "a non-zero float pad value is not supported")
            else:
                value = f", .has_value = true, .value = {int(c.data.reshape(-1)[0])}"
        return (f"tinynet::Pad<{ins[0]}, {out}, tinynet::PadOptions{{.before = {{{before}}}, "
                f".after = {{{after}}}{value}}}>")

    def op_reshape(self, op, prefix, ins, out):
        return f"tinynet::Reshape<{ins[0]}, {out}>"

    def op_softmax(self, op, prefix, ins, out):
        beta = float(op.options.get("beta", 1.0))
        if beta == 1.0:
            return f"tinynet::Softmax<{ins[0]}, {out}>"
        self.lines_constants.append(f"inline constexpr float {prefix}_beta = {cpp_float(beta)};\n")
        return f"tinynet::Softmax<{ins[0]}, {out}, {prefix}_beta>"

    def op_unary(self, op, prefix, ins, out):
        kind = {"LOGISTIC": "Logistic", "TANH": "Tanh", "QUANTIZE": "Quantize",
                "DEQUANTIZE": "Dequantize"}[op.opcode]
        return f"tinynet::{kind}<{ins[0]}, {out}>"

    def op_leaky_relu(self, op, prefix, ins, out):
        alpha = float(op.options.get("alpha", 0.2))
        self.lines_constants.append(f"inline constexpr float {prefix}_alpha = {cpp_float(alpha)};\n")
        return f"tinynet::LeakyRelu<{ins[0]}, {out}, {prefix}_alpha>"

    def op_strided_slice(self, op, prefix, ins, out):
        shape = self.model.tensors[op.inputs[0]].shape
        consts = [self.const(i) for i in op.inputs[1:4]]
        if any(c is None for c in consts):
            self.fail(op, "begin, end and strides must be constant")
        begin, end, strides = (c.data.reshape(-1).astype(np.int64) for c in consts)
        o = op.options
        if o.get("ellipsis_mask", 0) or o.get("new_axis_mask", 0):
            self.fail(op, "ellipsis_mask and new_axis_mask are not supported")
        if len(shape) > 4 or len(begin) != len(shape):
            self.fail(op, f"slicing a rank-{len(shape)} tensor with {len(begin)} indices is not supported")
        starts, counts = [], []
        for axis, dim in enumerate(shape):
            stride = int(strides[axis])
            if stride == 0:
                self.fail(op, "a stride of 0")
            bit = 1 << axis
            # TFLite strided_slice_logic.h: StartForAxis / StopForAxis
            if o.get("begin_mask", 0) & bit:
                start = 0 if stride > 0 else dim - 1
            else:
                start = int(begin[axis])
                start += dim if start < 0 else 0
                start = min(max(start, 0), dim) if stride > 0 else min(max(start, -1), dim - 1)
            if o.get("shrink_axis_mask", 0) & bit:
                stop = start + 1
            elif o.get("end_mask", 0) & bit:
                stop = dim if stride > 0 else -1
            else:
                stop = int(end[axis]) + (int(begin[axis]) if o.get("offset", False) else 0)
                stop += dim if stop < 0 else 0
                stop = min(max(stop, 0), dim) if stride > 0 else min(max(stop, -1), dim - 1)
            count = max(0, -(-(stop - start) // stride)) if stride > 0 else max(0, -(-(start - stop) // -stride))
            starts.append(start)
            counts.append(count)
        fmt = lambda v: ", ".join(str(int(x)) for x in list(v) + [0] * (4 - len(v)))
        fmt1 = lambda v: ", ".join(str(int(x)) for x in list(v) + [1] * (4 - len(v)))
        return (f"tinynet::StridedSlice<{ins[0]}, {out}, tinynet::StridedSliceOptions{{.start = {{{fmt(starts)}}}, "
                f".stride = {{{fmt1(strides)}}}, .count = {{{fmt1(counts)}}}}}>")

    HANDLERS = {
        "FULLY_CONNECTED": "op_fully_connected", "CONV_2D": "op_conv_2d",
        "DEPTHWISE_CONV_2D": "op_depthwise_conv_2d", "AVERAGE_POOL_2D": "op_pool",
        "MAX_POOL_2D": "op_pool", "MEAN": "op_mean", "ADD": "op_add_sub", "SUB": "op_add_sub",
        "CONCATENATION": "op_concatenation", "PAD": "op_pad", "PADV2": "op_pad",
        "RESHAPE": "op_reshape", "SQUEEZE": "op_reshape", "EXPAND_DIMS": "op_reshape",
        "SOFTMAX": "op_softmax", "LOGISTIC": "op_unary", "TANH": "op_unary",
        "QUANTIZE": "op_unary", "DEQUANTIZE": "op_unary", "LEAKY_RELU": "op_leaky_relu",
        "STRIDED_SLICE": "op_strided_slice",
    }
    # Inputs that are data (activations); the rest are parameters read at generation time.
    DATA_INPUTS = {"FULLY_CONNECTED": 1, "CONV_2D": 1, "DEPTHWISE_CONV_2D": 1, "MEAN": 1,
                   "PAD": 1, "PADV2": 1, "RESHAPE": 1, "STRIDED_SLICE": 1, "SQUEEZE": 1, "EXPAND_DIMS": 1}

    def emit(self):
        m = self.model
        declared = set()
        for index in m.inputs:
            self.declare_tensor(index)
            declared.add(index)
        for op in m.ops:
            handler = self.HANDLERS.get(op.opcode)
            if handler is None:
                self.fail(op, f"not supported by the C++ library (supported: {', '.join(sorted(self.HANDLERS))})")
            data_count = self.DATA_INPUTS.get(op.opcode, len(op.inputs))
            data_inputs = [i for i in op.inputs[:data_count] if i >= 0]
            for i in data_inputs:
                if m.tensors[i].data is not None:
                    self.fail(op, f"input tensor {i} ('{m.tensors[i].name}') is a constant; constant "
                                  f"operands of element-wise ops are not supported yet")
                if i not in declared:
                    self.fail(op, f"reads tensor {i} before any op writes it")
            if len(op.outputs) != 1:
                self.fail(op, f"{len(op.outputs)} outputs (supported: 1)")
            out_index = op.outputs[0]
            self.declare_tensor(out_index)
            declared.add(out_index)
            prefix = f"op{op.index}_{op.opcode.lower()}"
            ins = [self.tensor_name(i) for i in data_inputs]
            out = self.tensor_name(out_index)
            text = getattr(self, handler)(op, prefix, ins, out)
            self.lines_ops.append(f"// op {op.index}: {escape(op.opcode)}\nusing {prefix} = {text};\n")
            self.op_names.append(prefix)
        for index in m.outputs:
            if index not in declared:
                raise ModelError(m.path, f"graph output tensor {index} is not produced by any op")

        ins = ", ".join(self.tensor_name(i) for i in m.inputs)
        outs = ", ".join(self.tensor_name(i) for i in m.outputs)
        ops = ",\n                                 ".join(self.op_names)
        network = (f"using network = tinynet::Network<tinynet::Inputs<{ins}>, tinynet::Outputs<{outs}>,\n"
                   f"                                 {ops}>;\n")
        return network


def header_comment(model, summary):
    """The readable block at the top of the header. It names the model's file, not its path on the
    machine that generated the header. Every line goes through escape(): the summary carries
    tensor names (escaped already; escape() leaves escaped text as it is) and could carry others."""
    lines = [
        f"// Generated by tinynet from {escape(os.path.basename(model.path))}; do not edit.",
        f"// source sha256: {escape(model.sha256)}",
    ]
    lines += ["//"] + ["// " + escape(line.rstrip(), limit=None) for line in summary.split("\n")]
    return "\n".join(lines) + "\n"


# C++20 keywords and alternative tokens: not usable as a namespace name.
CXX_KEYWORDS = frozenset("""
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
    char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
    co_return co_yield decltype default delete do double dynamic_cast else enum explicit export
    extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
    nullptr operator or or_eq private protected public register reinterpret_cast requires return
    short signed sizeof static static_assert static_cast struct switch template this thread_local
    throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while
    xor xor_eq""".split())
# Namespaces the generated code or the standard library need for themselves.
RESERVED_NAMESPACES = frozenset(("std", "posix", "tinynet"))


def namespace_problem(name):
    """Why `name` cannot be the generated header's namespace (None when it can)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*", name):
        return "is not a C++ namespace name (letters, digits and _, not starting with a digit; A::B nests)"
    for k, part in enumerate(name.split("::")):
        if k == 0 and part.startswith("_"):
            return f"'{part}' starts with _, which is reserved to the compiler at global scope"
        if part in CXX_KEYWORDS:
            return f"'{part}' is a C++ keyword"
        if part in RESERVED_NAMESPACES:
            return f"'{part}' is reserved (the generated code refers to std:: and tinynet::)"
        if "__" in part or re.match(r"_[A-Z]", part):
            return f"'{part}' is reserved to the compiler (a double underscore, or _ and a capital letter)"
    return None


def check_namespace(name):
    problem = namespace_problem(name)
    if problem:
        raise UsageError(None, f"--name '{name}': {problem}; choose another name")


def safe_namespace(stem):
    """A namespace name derived from a file's stem: other characters become _, runs of _ collapse,
    leading/trailing _ go; a leading digit gets 'model_' before it, a keyword or reserved name
    '_model' after it."""
    name = re.sub(r"_+", "_", re.sub(r"[^0-9A-Za-z_]", "_", stem)).strip("_")
    if not name or name[0].isdigit():
        name = "model_" + name if name else "model"
    if name in CXX_KEYWORDS or name in RESERVED_NAMESPACES:
        name += "_model"
    return name


SPARSE_FORM_NAMES = {"dense": "dense", "unrolled": "unrolled", "compressed": "compressed"}


def generate_header(model, namespace, summary_text="", sparse="auto"):
    """Returns the header's text. Raises ModelError for anything the C++ library cannot express."""
    check_namespace(namespace)
    emitter = _Emitter(model, namespace)
    emitter.sparse = sparse
    network = emitter.emit()
    parts = [
        header_comment(model, summary_text),
        "#pragma once\n\n#include <bit>\n#include <cstdint>\n\n#include <tinynet/tinynet.hpp>\n",
        f"namespace {namespace} {{\n",
        "// ---- activation tensors ----\n",
        "\n".join(emitter.lines_tensors),
        "// ---- constants (flash) ----\n",
        "\n".join(emitter.lines_constants),
        "// ---- ops ----\n",
        "\n".join(emitter.lines_ops),
        network,
        arrays_check(emitter.arrays),
        f"}}  // namespace {namespace}\n",
    ]
    return "\n".join(parts)


def arrays_crc32(arrays):
    """The generator's CRC-32 of the header's arrays: CRC-32 (zlib's) of the sequence of each array's
    CRC-32 as 4 little-endian bytes -- the combination tinynet::arrays_crc32 uses in C++."""
    return zlib.crc32(b"".join(struct.pack("<I", zlib.crc32(data)) for _, data in arrays))


def arrays_check(arrays):
    """The header's own check that its arrays hold the bytes the generator meant (float literals
    read back exactly, integer types as intended): the compiler recomputes the CRC-32."""
    if not arrays:
        return ""
    names = ", ".join(name for name, _ in arrays)
    return (f"// CRC-32 of the constant arrays above, computed by the generator (see core/checksum.hpp).\n"
            f"// With -DTINYNET_VERIFY_HEADER_ARRAYS the compiler recomputes it (slow for large models).\n"
            f"// network::weights_checksum covers the tables the kernels read; tinynet::verify_weights<network>()\n"
            f"// recomputes that one from flash at run time.\n"
            f"inline constexpr std::uint32_t arrays_crc32 = 0x{arrays_crc32(arrays):08x}u;\n"
            f"#ifdef TINYNET_VERIFY_HEADER_ARRAYS\n"
            f"static_assert(std::endian::native != std::endian::little ||\n"
            f"                  tinynet::arrays_crc32<{names}> == arrays_crc32,\n"
            f"              \"tinynet: the header's arrays do not hold the bytes the generator wrote\");\n"
            f"#endif\n")


def write_atomically(path, text):
    """Writes text (str or bytes) to path through a temporary file in the same folder, so that a
    failure never leaves a half-written header behind."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tinynet-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
