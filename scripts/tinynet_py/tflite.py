"""Reads a .tflite file (TFLite flatbuffer, schema version 3) into tinynet's IR.

Does not use generated schema code: field ids come from schema.py and every read goes
through flatbuf.py's bounds checks.  Anything tinynet cannot handle raises ModelError
with the file name, the op or field concerned, and what is supported.
"""

import hashlib

import numpy as np

from . import ops as _ops
from . import schema
from .ops import OPTIONS, SUPPORTED_OPS, supported_ops_text
from .errors import ModelError, TinynetError
from .flatbuf import Buffer
from .ir import DTYPES, Model, Op, Tensor, unpack_int4

# A microcontroller model never comes near this; a corrupt shape easily does.
_MAX_TENSOR_ELEMENTS = 1 << 28


# A zero point must be a value of the tensor's type (TFLite's quantization spec).
_UNREAD_QUANTIZATION_DTYPES = ("int32", "int64")
# The ops whose TFLM kernels take an INT4 filter (unpacked to int8 before they run).
_INT4_WEIGHT_OPS = tuple(_ops.names(lambda s: s.int4_weights))
_ZERO_POINT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767),
                      "int32": (-(1 << 31), (1 << 31) - 1)}


def load_model(path, check_supported=True):
    """Parses `path` into an ir.Model.

    With check_supported (the default) every op must be in SUPPORTED_OPS; without it, ops
    tinynet cannot run are still listed (useful to inspect a model).
    """
    path = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TinynetError(path, f"cannot read the model: {e.strerror or e}") from None
    return parse_model(data, path, check_supported)


def parse_model(data, path="<memory>", check_supported=True):
    return _Reader(data, path, check_supported).model()


class _Reader:
    def __init__(self, data, path, check_supported):
        self.path = path
        self.data = bytes(data)
        self.buf = Buffer(self.data, path)
        self.check_supported = check_supported

    def fail(self, detail):
        raise ModelError(self.path, detail)

    # -- top level ---------------------------------------------------------------------
    def model(self):
        if len(self.data) < 8:
            self.fail(f"not a TFLite model: the file is only {len(self.data)} bytes long")
        ident = self.buf.identifier()
        if ident != schema.FILE_IDENTIFIER:
            self.fail(f"not a TFLite model: file identifier is {ident!r}, expected b'TFL3'")
        root = self.buf.root_table("Model")
        version = root.scalar(schema.MODEL_VERSION, "uint32", 0, "version")
        if version != schema.SCHEMA_VERSION:
            self.fail(f"TFLite schema version {version} is not supported "
                      f"(only version {schema.SCHEMA_VERSION})")
        self.opcodes = [self.operator_code(t)
                        for t in root.tables(schema.MODEL_OPERATOR_CODES, "operator_codes")]
        self.buffers = [self.buffer(t) for t in root.tables(schema.MODEL_BUFFERS, "buffers")]
        subgraphs = root.tables(schema.MODEL_SUBGRAPHS, "subgraphs")
        if not subgraphs:
            self.fail("the model has no subgraph")
        description = root.string(schema.MODEL_DESCRIPTION, "description")
        sg = subgraphs[0]
        raw_tensors = [self.raw_tensor(t, i)
                       for i, t in enumerate(sg.tables(schema.SUBGRAPH_TENSORS, "tensors"))]
        ops = [self.operator(t, i, len(raw_tensors))
               for i, t in enumerate(sg.tables(schema.SUBGRAPH_OPERATORS, "operators"))]
        inputs = self.tensor_list(sg, schema.SUBGRAPH_INPUTS, "inputs", len(raw_tensors))
        outputs = self.tensor_list(sg, schema.SUBGRAPH_OUTPUTS, "outputs", len(raw_tensors))
        for name, indices in (("inputs", inputs), ("outputs", outputs)):
            if not indices:
                self.fail(f"the subgraph lists no {name}: a network needs at least one input "
                          f"and one output")
        self.check_ops(ops, len(subgraphs))
        self.check_int4(raw_tensors, ops)
        tensors = [self.tensor(raw) for raw in raw_tensors]
        return Model(path=self.path, sha256=hashlib.sha256(self.data).hexdigest(),
                     tensors=tensors, ops=ops, inputs=inputs, outputs=outputs,
                     description=description, schema_version=version,
                     subgraph_name=sg.string(schema.SUBGRAPH_NAME, "name"))

    def operator_code(self, t):
        # TFLM's GetBuiltinCode: the larger of the two fields (the byte-sized deprecated one
        # holds codes < 127, builtin_code holds all codes in newer files).
        deprecated = t.scalar(schema.OPCODE_DEPRECATED_BUILTIN, "int8", 0, "deprecated_builtin_code")
        builtin = t.scalar(schema.OPCODE_BUILTIN, "int32", 0, "builtin_code")
        code = max(deprecated, builtin)
        name = schema.operator_name(code)
        if name == "CUSTOM":
            name = f"CUSTOM({t.string(schema.OPCODE_CUSTOM, 'custom_code')})"
        version = t.scalar(schema.OPCODE_VERSION, "int32", 1, "version")
        return name, version

    def buffer(self, t):
        data = t.bytes(schema.BUFFER_DATA, "data")
        if data is not None and len(data):
            return data
        # Models over 2 GB keep buffers after the flatbuffer: offset/size (valid if > 1).
        offset = t.scalar(schema.BUFFER_OFFSET, "uint64", 0, "offset")
        size = t.scalar(schema.BUFFER_SIZE, "uint64", 0, "size")
        if offset > 1:
            if offset + size > len(self.data):
                self.fail(f"corrupt or truncated TFLite file: {t.what}: external buffer "
                          f"[{offset}, {offset + size}) lies outside the file "
                          f"({len(self.data)} bytes)")
            return memoryview(self.data)[offset:offset + size]
        return None

    def tensor_list(self, table, field_id, name, count):
        indices = [int(i) for i in table.vector(field_id, "int32", name)]
        for i in indices:
            if not 0 <= i < count:
                self.fail(f"corrupt TFLite file: {table.what}.{name} refers to tensor {i}, "
                          f"but the subgraph has {count} tensors")
        return indices

    # -- tensors -----------------------------------------------------------------------
    def raw_tensor(self, t, index):
        name = t.string(schema.TENSOR_NAME, "name")
        label = f"tensor {index} '{name}'"
        shape = tuple(int(d) for d in t.vector(schema.TENSOR_SHAPE, "int32", "shape"))
        signature = t.vector(schema.TENSOR_SHAPE_SIGNATURE, "int32", "shape_signature")
        # Keras exports mark the batch dimension unknown in shape_signature (-1) while
        # `shape` holds 1; TFLM runs such models with `shape`, and so do we.  Any other
        # unknown dimension is a truly dynamic shape, which tinynet cannot compile.
        dynamic = any(d < 0 for d in shape) or len(signature) not in (0, len(shape)) or any(
            d < 0 and not (axis == 0 and shape[0] == 1) for axis, d in enumerate(signature))
        if dynamic:
            shown = tuple(int(d) for d in signature) if len(signature) else shape
            self.fail(f"{label} has a dynamic shape {shown} (-1 = unknown size); tinynet "
                      f"needs static shapes (only an unknown batch dimension of a shape with "
                      f"batch 1 is accepted): re-export the model with fixed dimensions")
        elements = 1
        for d in shape:
            elements *= d
        if elements > _MAX_TENSOR_ELEMENTS:
            self.fail(f"{label} has shape {shape} ({elements} elements); tinynet supports "
                      f"tensors of at most {_MAX_TENSOR_ELEMENTS} elements")
        type_code = t.scalar(schema.TENSOR_TYPE, "int8", 0, "type")
        dtype = schema.TENSOR_TYPES.get(type_code, f"type {type_code}")
        if t.has(schema.TENSOR_SPARSITY):
            self.fail(f"{label} is sparse; tinynet supports dense tensors only")
        scale = np.zeros(0, np.float32)
        zero_point = np.zeros(0, np.int64)
        quantized_dimension = 0
        # A problem with the quantization is reported only if some op may read it: see tensor().
        problem = None
        q = t.table(schema.TENSOR_QUANTIZATION, "quantization")
        if q is not None:
            if q.scalar(schema.QUANT_DETAILS_TYPE, "uint8", 0, "details_type") != 0:
                self.fail(f"{label} uses custom quantization details; tinynet supports "
                          f"affine (scale, zero point) quantization only")
            scale = q.vector(schema.QUANT_SCALE, "float32", "scale").astype(np.float32)
            zero_point = q.vector(schema.QUANT_ZERO_POINT, "int64", "zero_point").astype(np.int64)
            quantized_dimension = q.scalar(schema.QUANT_QUANTIZED_DIMENSION, "int32", 0,
                                           "quantized_dimension")
            if scale.size and zero_point.size and zero_point.size != scale.size:
                # TFLM's allocator (InitializeTfLiteTensorFromFlatbuffer) gives every channel
                # zero_point[0] when the counts differ (converters write one 0 for all channels).
                zero_point = np.full(scale.size, zero_point[0], np.int64)
            if scale.size > 1 and not 0 <= quantized_dimension < max(len(shape), 1):
                problem = (f"{label}: quantized_dimension {quantized_dimension} is outside "
                           f"its shape {shape}")
            elif scale.size > 1 and shape and scale.size != shape[quantized_dimension]:
                problem = (f"{label} has {scale.size} per-channel scales but dimension "
                           f"{quantized_dimension} of its shape {shape} is "
                           f"{shape[quantized_dimension]}")
            if scale.size and not zero_point.size:
                zero_point = np.zeros(scale.size, np.int64)
            bad = scale[~(np.isfinite(scale) & (scale >= 0))]
            if bad.size and problem is None:
                problem = (f"{label} has quantization scale {float(bad[0])!r}; a scale must be a "
                           f"finite number > 0")
        buffer_index = t.scalar(schema.TENSOR_BUFFER, "uint32", 0, "buffer")
        if buffer_index >= max(len(self.buffers), 1):
            self.fail(f"corrupt TFLite file: {label} refers to buffer {buffer_index}, "
                      f"but the model has {len(self.buffers)} buffers")
        raw = self.buffers[buffer_index] if buffer_index < len(self.buffers) else None
        is_variable = bool(t.scalar(schema.TENSOR_IS_VARIABLE, "bool", 0, "is_variable"))
        return dict(index=index, name=name, label=label, shape=shape, dtype=dtype,
                    scale=scale, zero_point=zero_point, quantization_problem=problem,
                    quantized_dimension=quantized_dimension, raw=raw, is_variable=is_variable)

    def check_int4(self, raw_tensors, ops):
        """INT4 tensors: only the constant filters of FULLY_CONNECTED, CONV_2D and
        DEPTHWISE_CONV_2D, as TFLM reads them."""
        readers = {}
        for op in ops:
            for position, i in enumerate(op.inputs):
                readers.setdefault(i, []).append((op, position))
        for raw in raw_tensors:
            if raw["dtype"] != "int4":
                continue
            users = readers.get(raw["index"], [])
            wrong = [(op, position) for op, position in users
                     if op.opcode not in _INT4_WEIGHT_OPS or position != 1]
            if raw["raw"] is None or wrong or not users:
                where = (f"read by op #{wrong[0][0].index} {wrong[0][0].opcode} as input {wrong[0][1]}"
                         if wrong else "not a constant filter" if raw["raw"] is None else "read by no op")
                self.fail(f"{raw['label']} is INT4 ({where}); like TFLM, tinynet reads 4-bit tensors only "
                          f"as the constant filter of {', '.join(_INT4_WEIGHT_OPS[:-1])} and {_INT4_WEIGHT_OPS[-1]}")

    def tensor(self, raw):
        label, dtype = raw["label"], raw["dtype"]
        if dtype == "int4":
            return self.int4_tensor(raw)
        if dtype not in DTYPES:
            self.fail(f"{label} has dtype {dtype}, which tinynet does not support "
                      f"(supported: {', '.join(DTYPES)})")
        scale, zero_point, problem = raw["scale"], raw["zero_point"], raw["quantization_problem"]
        if zero_point.size and dtype in _ZERO_POINT_RANGES and problem is None:
            low, high = _ZERO_POINT_RANGES[dtype]
            if zero_point.min() < low or zero_point.max() > high:
                wrong = int(zero_point[(zero_point < low) | (zero_point > high)][0])
                problem = (f"{label} of dtype {dtype} has zero point {wrong}, outside the "
                           f"{dtype} range [{low}, {high}]")
        if problem is not None:
            if dtype == "float32" or (raw["raw"] is not None and dtype in _UNREAD_QUANTIZATION_DTYPES):
                # A float32 tensor, or a constant int32/int64 one (a bias, a shape, axes, paddings,
                # indices): no TFLM kernel tinynet supports reads its quantization (float kernels
                # never do; conv biases are added raw, their scale taken to be input x filter
                # scale), so an odd one is dropped, as TFLM ignores it, rather than refused.
                scale, zero_point = np.zeros(0, np.float32), np.zeros(0, np.int64)
            else:
                self.fail(problem)
        data = None
        # A variable tensor (state an op keeps across invokes: SVDF, LSTM) lives in the arena; TFLM
        # never reads a buffer one may carry (ResetVariableTensor fills it), so neither does tinynet.
        if raw["raw"] is not None and not raw["is_variable"]:
            np_dtype = np.dtype(DTYPES[dtype]).newbyteorder("<")
            count = int(np.prod(raw["shape"], dtype=np.int64))
            expected = count * np_dtype.itemsize
            if len(raw["raw"]) != expected:
                self.fail(f"corrupt TFLite file: {label} of shape {raw['shape']} and dtype "
                          f"{dtype} needs {expected} bytes of data but its buffer has "
                          f"{len(raw['raw'])}")
            data = np.frombuffer(raw["raw"], dtype=np_dtype).astype(np_dtype.newbyteorder("="))
            data = data.reshape(raw["shape"])
            if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
                self.fail(f"{label} holds non-finite values (NaN or infinity); constant tensors "
                          f"must be finite")
            data.setflags(write=False)
        return Tensor(index=raw["index"], name=raw["name"], shape=raw["shape"], dtype=dtype,
                      scale=scale, zero_point=zero_point,
                      quantized_dimension=raw["quantized_dimension"], data=data,
                      is_variable=raw["is_variable"])

    # -- operators ---------------------------------------------------------------------
    def operator(self, t, index, tensor_count):
        opcode_index = t.scalar(schema.OPERATOR_OPCODE_INDEX, "uint32", 0, "opcode_index")
        if opcode_index >= len(self.opcodes):
            self.fail(f"corrupt TFLite file: operator {index} uses opcode_index {opcode_index}, "
                      f"but the model has {len(self.opcodes)} operator codes")
        name, version = self.opcodes[opcode_index]
        inputs = [int(i) for i in t.vector(schema.OPERATOR_INPUTS, "int32", "inputs")]
        outputs = [int(i) for i in t.vector(schema.OPERATOR_OUTPUTS, "int32", "outputs")]
        for kind, indices, allow_absent in (("input", inputs, True), ("output", outputs, False)):
            for i in indices:
                if (i == -1 and allow_absent) or 0 <= i < tensor_count:
                    continue
                self.fail(f"corrupt TFLite file: op #{index} {name} has {kind} tensor {i}, "
                          f"but the subgraph has {tensor_count} tensors")
        options = self.options(t, index, name)
        return Op(index=index, opcode=name, inputs=inputs, outputs=outputs, options=options,
                  version=version)

    def options(self, t, index, name):
        spec = OPTIONS.get(name)
        type_code = t.scalar(schema.OPERATOR_BUILTIN_OPTIONS_TYPE, "uint8", 0,
                             "builtin_options_type")
        if spec is None:
            return {}
        expected_code, table_name, fields = spec
        table = None
        if type_code != 0:
            if type_code != expected_code:
                self.fail(f"corrupt TFLite file: op #{index} {name} carries builtin options "
                          f"of union type {type_code}, expected {expected_code} ({table_name})")
            table = t.table(schema.OPERATOR_BUILTIN_OPTIONS, f"operators[{index}].builtin_options")
        options = {}
        for field_id, key, kind, default in fields:
            if kind == "int32[]":
                value = None
                if table is not None and table.vector_present(field_id):
                    value = [int(v) for v in table.vector(field_id, "int32", key)]
            elif kind in ("padding", "activation"):
                code = table.scalar(field_id, "int8", default, key) if table else default
                names = schema.PADDINGS if kind == "padding" else schema.ACTIVATIONS
                if code not in names:
                    self.fail(f"corrupt TFLite file: op #{index} {name} has {key} = {code}, "
                              f"not a valid {kind} value")
                value = names[code]
            else:
                value = table.scalar(field_id, kind, default, key) if table else default
                if kind == "bool":
                    value = bool(value)
                elif kind == "float32":
                    value = np.float32(value)
                    if not np.isfinite(value):
                        self.fail(f"corrupt TFLite file: op #{index} {name} has {key} = {float(value)}, "
                                  f"not a finite number")
            options[key] = value
        return options

    def int4_tensor(self, raw):
        """An INT4 filter (check_int4 allowed it): its values unpacked to int8, marked int4."""
        count = int(np.prod(raw["shape"], dtype=np.int64))
        if len(raw["raw"]) != (count + 1) // 2:
            self.fail(f"corrupt TFLite file: {raw['label']} of shape {raw['shape']} and dtype int4 "
                      f"needs {(count + 1) // 2} bytes of data but its buffer has {len(raw['raw'])}")
        tensor = self.tensor(dict(raw, dtype="int8", raw=None))
        tensor.data = unpack_int4(raw["raw"], count).reshape(raw["shape"])
        tensor.data.setflags(write=False)
        tensor.int4 = True
        return tensor

    def check_ops(self, ops, subgraph_count):
        for op in ops:
            if op.opcode in schema.SUBGRAPH_OPS and subgraph_count > 1:
                self.fail(f"op #{op.index} {op.opcode} calls another of the model's "
                          f"{subgraph_count} subgraphs; tinynet supports single-subgraph "
                          f"models only (supported ops: {supported_ops_text()})")
        if not self.check_supported:
            return
        # Every unsupported op at once, so that a user sees the whole list in one run.
        unsupported = {}
        for op in ops:
            if op.opcode not in SUPPORTED_OPS:
                unsupported.setdefault(op.opcode, []).append(op.index)
        if unsupported:
            listed = "; ".join(f"op{'s' if len(where) > 1 else ''} #{', #'.join(str(i) for i in where)} "
                               f"{name}" for name, where in unsupported.items())
            count = sum(len(where) for where in unsupported.values())
            self.fail(f"{count} op{'s' if count > 1 else ''} not supported by tinynet: "
                      f"{listed} (supported ops: {supported_ops_text()})")
