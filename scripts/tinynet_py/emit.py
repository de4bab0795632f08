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

from . import ops
from .errors import ModelError, UsageError
from .reference import Interpreter
from .safe_text import escape

ELEMENT_TYPES = {"int8": "std::int8_t", "int16": "std::int16_t", "int32": "std::int32_t",
                 "int64": "std::int64_t", "uint8": "std::uint8_t", "float32": "float"}
ARRAY_DTYPES = {"std::int8_t": "<i1", "std::int16_t": "<i2", "std::int32_t": "<i4", "std::int64_t": "<i8",
                "std::uint8_t": "<u1", "float": "<f4"}
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


def cpp_array(ctype, name, values, per_line=24, section=None):
    flat = np.asarray(values).reshape(-1)
    if ctype == "float":
        items = [cpp_float(v) for v in flat]
    else:
        items = [str(int(v)) for v in flat]
    lines = []
    for i in range(0, len(items), per_line):
        lines.append("    " + ", ".join(items[i:i + per_line]) + ",")
    body = "\n".join(lines)
    placed = f'[[gnu::section("{section}")]] ' if section else ""
    return f"{placed}inline constexpr {ctype} {name}[{len(items)}] = {{\n{body}\n}};\n"


WEIGHTS_SECTION = re.compile(r"\.[A-Za-z_][A-Za-z0-9_.]{0,62}")


def check_weights_section(section):
    """--weights-section: a linker section name the header can spell safely (it goes into a string
    literal): '.' then letters, digits, '_' and '.', at most 64 characters."""
    if section is not None and not WEIGHTS_SECTION.fullmatch(section):
        raise UsageError(None, f"--weights-section '{escape(section)}': a section name is '.' followed by "
                               f"letters, digits, '_' or '.', at most 64 characters (e.g. .qspi_weights)")


def op_prefix(op):
    """The prefix of every name the header gives op `op` (its type, weights, bias, ...)."""
    return f"op{op.index}_{op.opcode.lower()}"


def op_of_symbol(symbol, namespace):
    """The index of the op whose constants a (demangled) symbol of a build of the header names
    first -- its own weights, or a table of a layer type instantiated with them -- or None."""
    found = re.search(r"(?<![0-9A-Za-z_])" + re.escape(namespace) + r"::op(\d+)_", symbol)
    return int(found.group(1)) if found else None


def identifier(text):
    ident = re.sub(r"[^0-9A-Za-z_]", "_", text)
    return ident if ident and not ident[0].isdigit() else "_" + ident


class _Emitter:
    def __init__(self, model, namespace, sparse="auto", weights_section=None, int4_form="auto"):
        self.model = model
        self.int4_form = int4_form  # auto, packed, unpacked: how 4-bit weights reach the C++
        self.weights_section = weights_section  # linker section of every constant array, or None
        self.namespace = namespace
        self.sparse = sparse       # kernel form of FULLY_CONNECTED (see ops/weighted.py)
        self.activation_tensors = []
        self.lines_tensors = []
        self.lines_constants = []
        self.lines_ops = []
        self.op_names = []
        self.summary_rows = []
        self.arrays = []           # (name, bytes) of every constant array, in header order
        self.shared_arrays = {}    # (kind, tensor index) -> name: a tensor several ops read is emitted once

    # -- helpers --------------------------------------------------------------------------
    def add_array(self, ctype, name, values):
        """Emits a constant array and keeps its bytes (little-endian, as the C++ array holds them)
        for the header's arrays_crc32."""
        self.lines_constants.append(cpp_array(ctype, name, values, section=self.weights_section))
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
                                              f"int32, int64, uint8, float32)")
        name = self.tensor_name(index)
        shape = ", ".join(str(int(d)) for d in t.shape) if len(t.shape) else "1"
        element = ELEMENT_TYPES[t.dtype]
        comment = f"// '{escape(t.name)}'"
        # A variable tensor is state an op keeps across invokes (docs/design.md, "State").
        kind = "StateTensor" if t.is_variable else "Tensor"
        if t.is_variable:
            comment += " (state, kept across invokes)"
        if t.dtype == "float32" or not t.is_quantized:
            self.lines_tensors.append(
                f"{comment}\nstruct {name} : tinynet::{kind}<{element}, tinynet::Shape<{shape}>> {{}};\n")
        else:
            if t.per_channel:
                raise ModelError(self.model.path, f"tensor {index} ('{t.name}'): per-channel "
                                                  f"quantization of an activation is not supported")
            self.lines_tensors.append(
                f"{comment}\ninline constexpr tinynet::Quant {name}_quant{{{cpp_float(t.scale_scalar)}, "
                f"{t.zero_point_scalar}}};\n"
                f"struct {name} : tinynet::{kind}<{element}, tinynet::Shape<{shape}>, {name}_quant> {{}};\n")

    def declare_constant_tensor(self, index):
        """A constant operand of an element-wise op: its values as a flat array and a
        tinynet::ConstantTensor naming them (not in the arena)."""
        t = self.model.tensors[index]
        if t.dtype not in ELEMENT_TYPES:
            raise ModelError(self.model.path, f"tensor {index} ('{t.name}'): dtype {t.dtype} is not "
                                              f"supported for a constant operand (supported: int8, int16, "
                                              f"int32, int64, uint8, float32)")
        name = self.tensor_name(index)
        shape = ", ".join(str(int(d)) for d in t.shape) if len(t.shape) else "1"
        element = ELEMENT_TYPES[t.dtype]
        self.add_array(element, f"{name}_values", t.data)
        quant = ""
        if t.dtype != "float32" and t.is_quantized:
            if t.per_channel:
                raise ModelError(self.model.path, f"tensor {index} ('{t.name}'): a constant operand "
                                                  f"quantized per channel is not supported")
            self.lines_constants.append(
                f"inline constexpr tinynet::Quant {name}_quant{{{cpp_float(t.scale_scalar)}, "
                f"{t.zero_point_scalar}}};\n")
            quant = f", {name}_quant"
        self.lines_constants.append(
            f"// '{escape(t.name)}'\nstruct {name} : tinynet::ConstantTensor<{element}, tinynet::Shape<{shape}>, "
            f"{name}_values{quant}> {{}};\n")

    # -- weighted ops ----------------------------------------------------------------------
    def weight_arrays(self, op, prefix, weights_index, bias_index, weights_data=None, packed_int4_kernel=False):
        """The weights, bias and scales arrays of a weighted op. packed_int4_kernel: the op's C++
        layer runs 4-bit weights packed (see int4_weights)."""
        w = self.const(weights_index)
        if w is None:
            self.fail(op, "the weights must be constant")
        names = {}
        wtype = ELEMENT_TYPES.get(w.dtype)
        if w.dtype not in ("int8", "float32"):
            self.fail(op, f"weights of dtype {w.dtype} are not supported (supported: int8, float32)")
        # Weights, scales and bias that several ops read (an unrolled RNN's steps share them) are one
        # array each in flash; weights laid out anew for one op (weights_data) are that op's own.
        def array(kind, index, ctype, values, name):
            if weights_data is not None and kind != "bias":
                self.add_array(ctype, name, values)
                return name
            if (kind, index) not in self.shared_arrays:
                self.add_array(ctype, name, values)
                self.shared_arrays[(kind, index)] = name
            return self.shared_arrays[(kind, index)]

        if w.int4:   # packed or unpacked by the compiler: this op's own array
            names["weights"] = f"{prefix}_weights"
            self.int4_weights(names["weights"], w.data if weights_data is None else weights_data,
                              packed_int4_kernel)
        else:
            names["weights"] = array("weights", weights_index, wtype,
                                     w.data if weights_data is None else weights_data, f"{prefix}_weights")
        if bias_index is not None and bias_index >= 0:
            b = self.const(bias_index)
            if b is None:
                self.fail(op, "the bias must be constant")
            if b.dtype not in ("int32", "float32", "int64"):
                self.fail(op, f"bias of dtype {b.dtype} is not supported (supported: int32, float32)")
            btype = {"int32": "std::int32_t", "float32": "float", "int64": "std::int64_t"}[b.dtype]
            names["bias"] = array("bias", bias_index, btype, b.data, f"{prefix}_bias")
        else:
            names["bias"] = "tinynet::no_bias"
        if w.dtype == "int8":
            if not w.is_quantized:
                self.fail(op, "int8 weights without quantization parameters")
            # TFLM's per-channel conv kernels (ConvPerChannel, DepthwiseConvPerChannel) never read
            # the filter zero point: a nonzero one is ignored there, as here. FULLY_CONNECTED
            # subtracts it (weights_offset), which tinynet's kernel does not: refused.
            if np.any(w.zero_point != 0) and op.opcode not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                self.fail(op, "weights must be symmetric (zero point 0), as the TFLite int8 spec requires")
            names["scales"] = array("scales", weights_index, "float", w.scale, f"{prefix}_weight_scales")
        else:
            names["scales"] = "tinynet::no_scales"
        return names, w

    def int4_weights(self, name, values, packed_kernel):
        """4-bit weights: their TFLite INT4 bytes as an array, and `name` either the packed form
        (tinynet::PackedInt4, two per byte in flash) or the int8 values the compiler unpacks from
        them (int8 speed and flash). --int4-form auto and packed: packed where the layer has a
        packed kernel (packed_kernel: FullyConnected of even input depth, Conv2D of int8 tensors
        without groups and of even filter size), unpacked elsewhere."""
        from .ir import pack_int4
        count = int(np.asarray(values).size)
        self.add_array("std::uint8_t", f"{name}_int4", pack_int4(values))
        function = "packed_int4" if packed_kernel and self.int4_form != "unpacked" else "unpack_int4"
        self.lines_constants.append(f"inline constexpr auto {name} = tinynet::{function}<{count}>({name}_int4);\n")

    def constant_line(self, text):
        """A constant that is not an array (a float option such as softmax's beta)."""
        self.lines_constants.append(text)

    cpp_float = staticmethod(cpp_float)

    def emit(self):
        m = self.model
        declared = set()
        for index in m.inputs:
            self.declare_tensor(index)
            declared.add(index)
        plans = Interpreter(m).plans      # the reference's prepared plans: one derivation
        for op in m.ops:
            spec = ops.spec(op.opcode)
            if spec is None:
                self.fail(op, f"not supported by the C++ library (supported: {ops.supported_ops_text()})")
            if spec.emit is None:      # a folded op (SHAPE) that fold_constants had to keep
                self.fail(op, "its output is a constant the generator folds away; it cannot be a graph "
                              "output")
            data_inputs = [op.inputs[k] for k in ops.data_input_positions(spec, op) if op.inputs[k] >= 0]
            constants = [i for i in data_inputs if m.tensors[i].data is not None]
            if constants and not spec.constant_operands:
                i = constants[0]
                self.fail(op, f"input tensor {i} ('{m.tensors[i].name}') is a constant; a constant "
                              f"operand of {op.opcode} is not supported")
            if constants and len(constants) == len(data_inputs):
                self.fail(op, "every input is a constant, and the output is a graph output: an op of "
                              "constants is folded into a constant, which cannot be a graph output")
            for i in data_inputs:
                if m.tensors[i].data is not None:
                    if i not in declared:
                        self.declare_constant_tensor(i)
                        declared.add(i)
                elif i not in declared:
                    if not m.tensors[i].is_variable:
                        self.fail(op, f"reads tensor {i} before any op writes it")
                    self.declare_tensor(i)     # state: a StateTensor the op updates in place
                    declared.add(i)
            for index in op.outputs:
                self.declare_tensor(index)
                declared.add(index)
            prefix = op_prefix(op)
            ins = [self.tensor_name(i) for i in data_inputs]
            outs = [self.tensor_name(i) for i in op.outputs]
            text = spec.emit(self, op, plans[op.index], prefix, ins, outs)
            for suffix, part in ([("", text)] if isinstance(text, str) else text):
                self.lines_ops.append(f"// op {op.index}: {escape(op.opcode)}\nusing {prefix}{suffix} = {part};\n")
                self.op_names.append(prefix + suffix)
        for index in m.outputs:
            if index not in declared:
                raise ModelError(m.path, f"graph output tensor {index} is not produced by any op")

        ins = ", ".join(self.tensor_name(i) for i in m.inputs)
        outs = ", ".join(self.tensor_name(i) for i in m.outputs)
        op_list = ",\n                                 ".join(self.op_names)
        network = (f"using network = tinynet::Network<tinynet::Inputs<{ins}>, tinynet::Outputs<{outs}>,\n"
                   f"                                 {op_list}>;\n")
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


def generate_header(model, namespace, summary_text="", sparse="auto", weights_section=None, int4_form="auto"):
    """Returns the header's text. Raises ModelError for anything the C++ library cannot express.
    weights_section: the linker section of the constant arrays (default: the compiler's, .rodata)."""
    check_namespace(namespace)
    check_weights_section(weights_section)
    emitter = _Emitter(ops.fold_constants(model), namespace, sparse, weights_section, int4_form)
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
