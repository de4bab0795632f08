"""Constants from TFLite's schema (tensorflow/lite/schema/schema.fbs, schema version 3).

Field ids are the position of the field in its table; a union takes two ids (its
`_type` byte, then the value).
"""

SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"

# enum TensorType : byte
TENSOR_TYPES = {
    0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string",
    6: "bool", 7: "int16", 8: "complex64", 9: "int8", 10: "float64", 11: "complex128",
    12: "uint64", 13: "resource", 14: "variant", 15: "uint32", 16: "uint16", 17: "int4",
    18: "bfloat16",
}

# enum BuiltinOperator : int32 (0..161; the STABLEHLO_* range is not listed by name)
BUILTIN_OPERATORS = [
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
    "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF",
    "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE",
    "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
    "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST",
    "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER",
    "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
    "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK",
    "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN",
    "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE",
    "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
    "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
    "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND",
    "HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
    "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND",
    "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE",
    "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM",
    "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
]


def operator_name(code):
    if 0 <= code < len(BUILTIN_OPERATORS):
        return BUILTIN_OPERATORS[code]
    return f"BUILTIN_{code}"


# Ops whose options live in another subgraph (control flow): they need every subgraph.
SUBGRAPH_OPS = {"CALL", "IF", "WHILE", "CALL_ONCE"}

# enum Padding : byte
PADDINGS = {0: "SAME", 1: "VALID"}

# enum ActivationFunctionType : byte
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}

# Field ids of the tables the reader walks.
MODEL_VERSION, MODEL_OPERATOR_CODES, MODEL_SUBGRAPHS, MODEL_DESCRIPTION, MODEL_BUFFERS = range(5)
OPCODE_DEPRECATED_BUILTIN, OPCODE_CUSTOM, OPCODE_VERSION, OPCODE_BUILTIN = range(4)
SUBGRAPH_TENSORS, SUBGRAPH_INPUTS, SUBGRAPH_OUTPUTS, SUBGRAPH_OPERATORS, SUBGRAPH_NAME = range(5)
(TENSOR_SHAPE, TENSOR_TYPE, TENSOR_BUFFER, TENSOR_NAME, TENSOR_QUANTIZATION,
 TENSOR_IS_VARIABLE, TENSOR_SPARSITY, TENSOR_SHAPE_SIGNATURE, TENSOR_HAS_RANK) = range(9)
(QUANT_MIN, QUANT_MAX, QUANT_SCALE, QUANT_ZERO_POINT, QUANT_DETAILS_TYPE, QUANT_DETAILS,
 QUANT_QUANTIZED_DIMENSION) = range(7)
(OPERATOR_OPCODE_INDEX, OPERATOR_INPUTS, OPERATOR_OUTPUTS, OPERATOR_BUILTIN_OPTIONS_TYPE,
 OPERATOR_BUILTIN_OPTIONS, OPERATOR_CUSTOM_OPTIONS) = range(6)
BUFFER_DATA, BUFFER_OFFSET, BUFFER_SIZE = range(3)

# union BuiltinOptions: type code of each options table we read (position in the union + 1),
# and that table's fields as (field id, name, kind, default).  Enum-valued fields are
# decoded through the named table ("padding" -> PADDINGS, "activation" -> ACTIVATIONS).
_CONV_2D_FIELDS = [
    (0, "padding", "padding", 0), (1, "stride_w", "int32", 0), (2, "stride_h", "int32", 0),
    (3, "fused_activation_function", "activation", 0),
    (4, "dilation_w_factor", "int32", 1), (5, "dilation_h_factor", "int32", 1),
    (6, "quantized_bias_type", "int8", 0),
]
_POOL_2D_FIELDS = [
    (0, "padding", "padding", 0), (1, "stride_w", "int32", 0), (2, "stride_h", "int32", 0),
    (3, "filter_width", "int32", 0), (4, "filter_height", "int32", 0),
    (5, "fused_activation_function", "activation", 0),
]
_DEPTHWISE_FIELDS = [
    (0, "padding", "padding", 0), (1, "stride_w", "int32", 0), (2, "stride_h", "int32", 0),
    (3, "depth_multiplier", "int32", 0), (4, "fused_activation_function", "activation", 0),
    (5, "dilation_w_factor", "int32", 1), (6, "dilation_h_factor", "int32", 1),
]
_FULLY_CONNECTED_FIELDS = [
    (0, "fused_activation_function", "activation", 0), (1, "weights_format", "int8", 0),
    (2, "keep_num_dims", "bool", False), (3, "asymmetric_quantize_inputs", "bool", False),
    (4, "quantized_bias_type", "int8", 0),
]
_ADD_SUB_FIELDS = [
    (0, "fused_activation_function", "activation", 0), (1, "pot_scale_int16", "bool", True),
]
_TRANSPOSE_CONV_FIELDS = [
    (0, "padding", "padding", 0), (1, "stride_w", "int32", 0), (2, "stride_h", "int32", 0),
    (3, "fused_activation_function", "activation", 0), (4, "quantized_bias_type", "int8", 0),
]
_STRIDED_SLICE_FIELDS = [
    (0, "begin_mask", "int32", 0), (1, "end_mask", "int32", 0),
    (2, "ellipsis_mask", "int32", 0), (3, "new_axis_mask", "int32", 0),
    (4, "shrink_axis_mask", "int32", 0), (5, "offset", "bool", False),
]

# op name -> (BuiltinOptions type code, options table name, fields)
OPTIONS = {
    "CONV_2D": (1, "Conv2DOptions", _CONV_2D_FIELDS),
    "DEPTHWISE_CONV_2D": (2, "DepthwiseConv2DOptions", _DEPTHWISE_FIELDS),
    "AVERAGE_POOL_2D": (5, "Pool2DOptions", _POOL_2D_FIELDS),
    "MAX_POOL_2D": (5, "Pool2DOptions", _POOL_2D_FIELDS),
    "FULLY_CONNECTED": (8, "FullyConnectedOptions", _FULLY_CONNECTED_FIELDS),
    "SOFTMAX": (9, "SoftmaxOptions", [(0, "beta", "float32", 0.0)]),
    "CONCATENATION": (10, "ConcatenationOptions",
                      [(0, "axis", "int32", 0), (1, "fused_activation_function", "activation", 0)]),
    "ADD": (11, "AddOptions", _ADD_SUB_FIELDS),
    "RESHAPE": (17, "ReshapeOptions", [(0, "new_shape", "int32[]", None)]),
    "PAD": (22, "PadOptions", []),
    "MEAN": (27, "ReducerOptions", [(0, "keep_dims", "bool", False)]),
    "SUB": (28, "SubOptions", _ADD_SUB_FIELDS),
    "STRIDED_SLICE": (32, "StridedSliceOptions", _STRIDED_SLICE_FIELDS),
    "DEQUANTIZE": (38, "DequantizeOptions", []),
    "PADV2": (43, "PadV2Options", []),
    "TRANSPOSE_CONV": (49, "TransposeConvOptions", _TRANSPOSE_CONV_FIELDS),
    "LEAKY_RELU": (75, "LeakyReluOptions", [(0, "alpha", "float32", 0.0)]),
    "QUANTIZE": (89, "QuantizeOptions", []),
    "LOGISTIC": (0, None, []),
    "TANH": (0, None, []),
}
