"""Differential test: the generated C++ (compiled for the host) against the numpy reference
interpreter (an independent implementation of TFLM's arithmetic) on seeded synthetic models,
for the kernels and parameters that no TFLM golden covers.

Every case is a one-op model (and a few 2-4 op chains) from synthetic_models.py, fed several
inputs (int8 inputs always include all -128, all 127 and the zero point). Integer outputs must be
the same bytes; float outputs must agree within float32 accumulation error (the reference sums in
float64). The models are compiled into a few programs of many networks each (CHUNK), two at a time,
before the cases run; builds go to a per-session cache unless $TINYNET_CACHE is set. Every case
must pass: a mismatch is fixed (on the side that TFLM's source shows to be wrong), not recorded as
expected.
"""

import concurrent.futures
import dataclasses
import os

import numpy as np
import pytest

import synthetic_models as sm
from conftest import SHARED, dequantized_golden_inputs, run_tinynet
from many_networks import HostProgram
from tinynet_py import emit, prune, runner
from tinynet_py.reference import Interpreter
from tinynet_py.quantize import int4_weights
from tinynet_py.tflite import parse_model
from tinynet_py.tflite_writer import write_model


# ---- the catalogue -----------------------------------------------------------------------------

def conv_cases():
    c = sm.conv_case
    yield c("conv_k3_same", (1, 7, 6, 4), 6, (3, 3))
    yield c("conv_k3x2_s2x1_dil2x1_same_relu6_zp-128", (1, 9, 8, 3), 5, (3, 2), (2, 1), (2, 1),
            "SAME", "RELU6", in_zp=-128)
    yield c("conv_k3_dil2x3_valid_relu_zp127", (1, 9, 11, 2), 4, (3, 3), (1, 1), (2, 3), "VALID",
            "RELU", in_zp=127, out_zp=-128)
    yield c("conv_k2x3_s2_valid_relu_n1", (1, 8, 7, 5), 3, (2, 3), (2, 2), padding="VALID",
            activation="RELU_N1_TO_1", in_zp=0, out_zp=127)
    yield c("conv_k5_s3_same_kernel_larger_than_input", (1, 4, 4, 2), 3, (5, 5), (3, 3))
    yield c("conv_k3_s2_dil2_same", (1, 10, 9, 3), 4, (3, 3), (2, 2), (2, 2), "SAME", "RELU")
    yield c("conv_1x1_per_tensor", (1, 5, 5, 16), 8, (1, 1), per_channel=False)
    yield c("conv_no_bias", (1, 5, 5, 4), 3, (3, 3), bias=False)
    yield c("conv_batch2", (2, 5, 4, 3), 4, (3, 3), (1, 2), padding="SAME", activation="RELU6")
    yield c("conv_odd_channels_33_to_7", (1, 4, 4, 33), 7, (2, 2), (1, 1), (1, 1), "VALID")
    yield c("conv_in1_out9", (1, 6, 5, 1), 9, (3, 3), (2, 1))
    yield c("conv_zp127_out_zp-128", (1, 5, 5, 3), 4, (3, 3), in_zp=127, out_zp=-128)
    yield c("conv_zp-128_out_zp127", (1, 5, 5, 3), 4, (3, 3), in_zp=-128, out_zp=127)
    for mode in ("one", "below_one", "big", "small", "tiny", "zero", "fixup"):
        yield c(f"conv_multiplier_{mode}", (1, 5, 5, 3), 4, (3, 3), multiplier=mode)
    yield c("conv_multiplier_fixup_per_tensor", (1, 5, 5, 3), 4, (3, 3), multiplier="fixup",
            per_channel=False)
    yield c("conv_groups2", (1, 6, 6, 6), 4, (3, 3), groups=2)
    yield c("conv_groups3_s2_per_tensor_relu", (1, 7, 7, 6), 6, (3, 3), (2, 2), padding="VALID",
            activation="RELU", per_channel=False, groups=3, in_zp=-128)
    # Hybrid (float activations, int8 weights): the same bytes as the reference, whose arithmetic
    # (ops/weighted.py hybrid_quantize) follows TFLite's; per-tensor scales quantize the input
    # symmetrically, differing per-channel ones asymmetrically (conv.cc EvalHybridPerChannel).
    yield c("conv_hybrid_per_tensor_k3_same_relu", (1, 7, 6, 4), 6, (3, 3), activation="RELU",
            per_channel=False, dtype="hybrid")
    yield c("conv_hybrid_per_channel_k3x2_s2_valid", (1, 8, 7, 3), 5, (3, 2), (2, 2), padding="VALID",
            dtype="hybrid")
    yield c("conv_hybrid_per_channel_batch2_no_bias_relu6", (2, 5, 4, 3), 4, (3, 3), (1, 2), padding="SAME",
            activation="RELU6", bias=False, dtype="hybrid")
    yield c("conv_float_k3_same", (1, 6, 5, 3), 4, (3, 3), dtype="float32")
    yield c("conv_float_s2_dil2_valid_relu6", (2, 9, 9, 2), 3, (2, 3), (2, 1), (2, 2), "VALID",
            "RELU6", dtype="float32")
    yield c("conv_float_1x1_relu_n1", (1, 4, 4, 5), 2, (1, 1), activation="RELU_N1_TO_1",
            dtype="float32")
    yield c("conv_float_no_bias", (1, 4, 4, 5), 2, (3, 3), bias=False, dtype="float32")


def depthwise_cases():
    d = sm.depthwise_case
    yield d("dw_m1_k3_same_c8", (1, 6, 6, 8), 1, (3, 3))
    yield d("dw_m1_c5_s2_valid_relu", (1, 7, 8, 5), 1, (3, 3), (2, 2), padding="VALID", activation="RELU")
    yield d("dw_m1_c4_dil2_same_relu6", (1, 7, 7, 4), 1, (3, 3), (1, 1), (2, 2), "SAME", "RELU6")
    yield d("dw_m2_dil2_same_relu6", (1, 6, 6, 4), 2, (3, 3), (1, 1), (2, 2), "SAME", "RELU6")
    yield d("dw_m3_k2x3_s1x2_dil1x2_valid", (1, 5, 9, 3), 3, (2, 3), (1, 2), (1, 2), "VALID")
    yield d("dw_m2_s2_same_relu_n1", (1, 7, 6, 3), 2, (3, 3), (2, 2), activation="RELU_N1_TO_1")
    yield d("dw_in1_m4_s2_dil2", (1, 9, 9, 1), 4, (3, 3), (2, 2), (2, 2), "SAME")
    yield d("dw_per_tensor", (1, 5, 5, 6), 1, (3, 3), per_channel=False)
    yield d("dw_no_bias", (1, 5, 5, 6), 2, (3, 3), bias=False)
    yield d("dw_batch2_m2", (2, 4, 5, 2), 2, (2, 2), (1, 1), padding="VALID")
    yield d("dw_zp-128_out127", (1, 5, 5, 4), 1, (3, 3), in_zp=-128, out_zp=127)
    yield d("dw_hybrid_m1_c8_same_relu", (1, 6, 5, 8), 1, (3, 3), activation="RELU", dtype="hybrid")
    yield d("dw_hybrid_m2_s2_dil2_batch2", (2, 7, 6, 3), 2, (3, 3), (2, 2), (2, 2), "SAME", dtype="hybrid")
    yield d("dw_hybrid_in1_m4_no_bias", (1, 6, 6, 1), 4, (3, 3), bias=False, dtype="hybrid")
    yield d("dw_zp127_out-128", (1, 5, 5, 4), 2, (3, 3), in_zp=127, out_zp=-128)
    yield d("dw_k5_s3_kernel_larger_than_input", (1, 3, 4, 4), 1, (5, 5), (3, 3))
    for mode in ("one", "big", "tiny", "zero", "fixup"):
        yield d(f"dw_multiplier_{mode}", (1, 5, 5, 4), 2, (3, 3), multiplier=mode)
    yield d("dw_float_m1_same", (1, 5, 5, 4), 1, (3, 3), dtype="float32")
    yield d("dw_float_m2_dil2_s2_relu6", (1, 8, 8, 3), 2, (3, 3), (2, 2), (2, 2), "SAME", "RELU6",
            dtype="float32")


def transpose_conv_cases():
    """The int8 cases beyond tflm-ops' and tflm-seanet-int16's (which cover 16x8), and float (no TFLM case)."""
    t = sm.transpose_conv_case
    # stride 3 > kernel 2 (output rows no tap reaches: bias only), VALID, an output cropped
    # below TFLM's full size, per-tensor weights, RELU, batch 2.
    yield t("tconv_s3_k2_valid_cropped_relu_batch2", (2, 3, 2, 2), (7, 5), 3, (2, 2), (3, 3), "VALID",
            "RELU", in_zp=127, out_zp=-128, per_channel=False)
    # float: every element summed in TFLM's scatter order, so the bytes must be TFLM's (tolerance 0).
    yield t("tconv_float_s2_same_k3_relu", (1, 4, 3, 12), (8, 6), 5, (3, 3), (2, 2), activation="RELU",
            dtype="float32")
    yield t("tconv_float_s1x2_valid_k2x4_no_bias", (2, 3, 3, 2), (4, 10), 3, (2, 4), (1, 2), "VALID",
            dtype="float32", bias=False)


def batch_matmul_cases():
    """Beyond tflm-ops' cases (a constant rhs, int16): rank 5, a constant lhs, float."""
    m = sm.batch_matmul_case
    # rank 5 against rank 3: batch dimensions broadcast both ways (lhs 2x1x3, rhs 1x4x3 -> 2x4x3).
    yield m("bmm_rank5_broadcast_adj_y", (2, 1, 3, 4, 6), (4, 1, 5, 6), adj_y=True)
    yield m("bmm_const_lhs_adj_x", (3, 5), (2, 3, 4), adj_x=True, constant=0, zero_points=(127, -128, 120),
            out_scale_factor=3.0)
    # float: the sum in TFLM's k order from 0.0f, so the bytes must be TFLM's (tolerance 0).
    yield m("bmm_float_depth33_broadcast", (2, 3, 33), (1, 33, 4), dtype="float32")
    yield m("bmm_float_const_rhs_adj_x_adj_y", (2, 9, 3), (5, 9), adj_x=True, adj_y=True, constant=1,
            dtype="float32")


def fully_connected_cases():
    f = sm.fully_connected_case
    yield f("fc_per_tensor", (1, 20), 10)
    yield f("fc_per_channel_relu", (1, 37), 9, "RELU", per_channel=True)
    yield f("fc_batches3_per_channel", (3, 16), 5, per_channel=True)
    yield f("fc_batches3_per_tensor_relu6", (3, 16), 5, "RELU6")
    yield f("fc_keep_num_dims_2x3x8", (2, 3, 8), 4, keep_num_dims=True, per_channel=True)
    yield f("fc_rank4_input", (1, 2, 2, 8), 6)
    yield f("fc_depth600", (1, 600), 3, per_channel=True)
    yield f("fc_depth600_batches2_per_tensor", (2, 600), 4)
    yield f("fc_relu_n1", (1, 24), 7, "RELU_N1_TO_1")
    yield f("fc_no_bias", (1, 24), 7, bias=False)
    yield f("fc_zp-128_out127", (2, 12), 5, in_zp=-128, out_zp=127)
    yield f("fc_hybrid_per_tensor_batches3", (3, 20), 6, dtype="hybrid")
    yield f("fc_hybrid_asymmetric_per_channel_relu", (2, 33), 7, "RELU", per_channel=True, dtype="hybrid",
            asymmetric_inputs=True)
    yield f("fc_hybrid_depth600_asymmetric", (2, 600), 3, dtype="hybrid", asymmetric_inputs=True)
    yield f("fc_zp127_out-128", (2, 12), 5, in_zp=127, out_zp=-128, per_channel=True)
    for mode in ("one", "below_one", "big", "tiny", "zero", "fixup"):
        yield f(f"fc_per_tensor_multiplier_{mode}", (2, 10), 4, multiplier=mode)
    for mode in ("one", "big", "fixup"):
        yield f(f"fc_per_channel_multiplier_{mode}", (2, 10), 4, multiplier=mode, per_channel=True)
    yield f("fc_float", (1, 20), 10, dtype="float32")
    yield f("fc_float_batches4_relu6", (4, 9), 3, "RELU6", dtype="float32")
    yield f("fc_float_relu", (2, 33), 5, "RELU", dtype="float32")
    yield f("fc_float_no_bias", (2, 33), 5, bias=False, dtype="float32")


def pool_cases():
    p = sm.pool_case
    for op, short in (("AVERAGE_POOL_2D", "avg"), ("MAX_POOL_2D", "max")):
        yield p(f"{short}_2x2_s2_valid", op, (1, 6, 6, 3), (2, 2), (2, 2), "VALID")
        yield p(f"{short}_3x2_s2_same_relu", op, (1, 5, 6, 3), (3, 2), (2, 2), "SAME", "RELU")
        yield p(f"{short}_3x3_s1_same_relu6_zp-128", op, (1, 5, 5, 2), (3, 3), (1, 1), "SAME", "RELU6",
                zp=-128, scale=0.05)
        yield p(f"{short}_4x3_s3x2_same_relu_n1_zp127", op, (2, 7, 8, 4), (4, 3), (3, 2), "SAME",
                "RELU_N1_TO_1", zp=127, scale=0.02)
        yield p(f"{short}_filter_larger_than_input_same", op, (1, 3, 2, 5), (5, 5), (2, 2), "SAME")
        yield p(f"{short}_global_valid", op, (1, 7, 9, 3), (7, 9), (1, 1), "VALID")
        yield p(f"{short}_float_3x3_s2_same", op, (1, 7, 6, 3), (3, 3), (2, 2), "SAME", dtype="float32")
        yield p(f"{short}_float_2x2_valid_relu6", op, (2, 4, 6, 2), (2, 2), (2, 2), "VALID", "RELU6",
                dtype="float32")


def mean_cases():
    m = sm.mean_case
    yield m("mean_4x5", (1, 4, 5, 3), 0.2, -10, 0.1, 4)
    yield m("mean_7x9_count63_batch2_no_keep_dims", (2, 7, 9, 4), 0.05, 3, 0.04, -2, keep_dims=False)
    yield m("mean_8x8_count64", (1, 8, 8, 2), 0.1, 0, 0.1, 0)
    yield m("mean_1x1_count1", (1, 1, 1, 5), 0.1, 5, 0.07, -3)
    yield m("mean_16x16_ratio_above_one", (1, 16, 16, 3), 0.3, -128, 0.01, 127)
    yield m("mean_3x5_ratio_tiny", (1, 3, 5, 2), 0.001, 127, 4.0, -128)
    yield m("mean_axes_negative", (1, 5, 3, 6), 0.02, -7, 0.02, -7, axes=(-3, -2))
    yield m("mean_13x11_zp-128", (1, 13, 11, 3), 0.0123, -128, 0.0077, -128)
    yield m("mean_float", (1, 5, 7, 3), None, None, None, None, dtype="float32")
    yield m("mean_float_no_keep_dims", (2, 3, 3, 4), None, None, None, None, keep_dims=False,
            dtype="float32")


def reduce_cases():
    """SUM, REDUCE_MAX and MEAN over any axes, keep_dims both ways (float SUM and REDUCE_MAX: the
    same bytes, as the sum runs in input order)."""
    r = sm.reduce_case
    yield r("sum_axis3_keep", "SUM", (1, 4, 4, 6), (3,), True, ((0.01, -128), (0.3, -100)))
    yield r("sum_axes02_rank3_ratio_above_one", "SUM", (3, 5, 4), (0, 2), False, ((0.2, 7), (0.05, -3)))
    yield r("sum_all_axes_negative_repeated", "SUM", (2, 3, 4), (-1, 0, 1, 2), True, ((0.01, 0), (0.5, 10)))
    yield r("sum_rank5_axis1", "SUM", (2, 3, 2, 2, 3), (1, 3), False, ((0.02, -5), (0.04, 1)))
    yield r("sum_int16_axis0", "SUM", (5, 3, 4), (0,), True, ((0.001, 0), (0.004, 0)), dtype="int16")
    yield r("sum_int16_axes12_zp", "SUM", (2, 6, 5), (-1, 1), False, ((0.0005, 3), (0.02, -7)), dtype="int16")
    yield r("sum_float_axes13", "SUM", (2, 3, 4, 5), (1, 3), False, dtype="float32")
    yield r("sum_float_all_keep", "SUM", (3, 7), (0, 1), True, dtype="float32")
    yield r("reduce_max_axis0_keep", "REDUCE_MAX", (4, 3, 5), (0,), True, ((0.05, -10), (0.05, -10)))
    yield r("reduce_max_axes_23_rank5", "REDUCE_MAX", (2, 2, 3, 4, 3), (2, -2), False, ((0.1, 3), (0.1, 3)))
    yield r("reduce_max_all", "REDUCE_MAX", (3, 4), (1, 0), False, ((0.02, -128), (0.02, -128)))
    yield r("reduce_max_float_axis1", "REDUCE_MAX", (2, 6, 3), (1,), True, dtype="float32")
    yield r("mean_axis3_rank4", "MEAN", (1, 4, 4, 10), (3,), True, ((0.05, -10), (0.05, -10)))
    yield r("mean_axes02_rank3_count15", "MEAN", (3, 4, 5), (0, -1), False, ((0.02, 7), (0.01, -3)))
    yield r("mean_int16_axis0", "MEAN", (6, 2, 3), (0,), False, ((0.001, 0), (0.0008, 0)), dtype="int16")
    yield r("mean_float_rank5_axes14", "MEAN", (2, 3, 2, 2, 3), (1, 4), True, dtype="float32")


def arithmetic_cases():
    a = sm.arithmetic_case
    q = ((0.07, -3), (0.11, 9), (0.05, -128))
    shapes = [
        ("same", (1, 3, 4, 5), (1, 3, 4, 5), (1, 3, 4, 5)),
        ("bcast_channels", (1, 2, 3, 4), (1, 1, 1, 4), (1, 2, 3, 4)),
        ("bcast_first_small", (1, 1, 1, 4), (1, 2, 3, 4), (1, 2, 3, 4)),
        ("bcast_both", (2, 1, 3, 1), (1, 4, 1, 5), (2, 4, 3, 5)),
        ("bcast_rank1", (2, 3, 4), (4,), (2, 3, 4)),
        ("bcast_scalar", (3, 5), (1,), (3, 5)),
    ]
    for op in ("ADD", "SUB"):
        low = op.lower()
        for label, s1, s2, so in shapes:
            yield a(f"{low}_{label}", op, s1, s2, so, q)
        for act in ("RELU", "RELU6", "RELU_N1_TO_1"):
            yield a(f"{low}_bcast_{act.lower()}", op, (1, 2, 3, 4), (1, 1, 3, 1), (1, 2, 3, 4),
                    ((0.05, 10), (0.03, -20), (0.02, 1)), act)
        yield a(f"{low}_scale_ratio_500", op, (2, 8), (2, 8), (2, 8), ((0.5, 0), (0.001, 5), (0.6, 2)))
        yield a(f"{low}_equal_scales_zp_extremes", op, (2, 8), (1, 8), (2, 8),
                ((0.1, -128), (0.1, 127), (0.1, 127)))
        yield a(f"{low}_tiny_output_scale", op, (1, 16), (1, 16), (1, 16), ((0.1, 0), (0.2, 0), (0.001, 0)))
        yield a(f"{low}_float_bcast", op, (1, 2, 3, 4), (1, 1, 3, 1), (1, 2, 3, 4), dtype="float32")
        yield a(f"{low}_float_relu6", op, (3, 5), (5,), (3, 5), activation="RELU6", dtype="float32")


def elementwise_cases():
    """The element-wise ops of issue 12: broadcasting, constant operands, int16, float, fused
    activations, and the scale combinations that take each branch of TFLM's arithmetic."""
    c = sm.binary_case
    q3 = ((0.07, -3), (0.11, 9), (0.05, -128))
    yield c("add_const_channels_relu6", "ADD", (1, 3, 4, 6), (6,), (1, 3, 4, 6), q3, "RELU6", constant=1)
    yield c("sub_const_first_same_shape", "SUB", (2, 16), (2, 16), (2, 16), q3, constant=0)
    yield c("mul_bcast_both_relu", "MUL", (2, 1, 3, 1), (1, 4, 1, 5), (2, 4, 3, 5), q3, "RELU")
    yield c("mul_const_channels", "MUL", (1, 3, 4, 6), (6,), (1, 3, 4, 6), ((0.02, 5), (0.004, -7), (0.01, 2)),
            constant=1)
    yield c("mul_const_first_scalar_big_multiplier", "MUL", (1,), (3, 7), (3, 7), ((0.5, 0), (0.4, 100), (0.001, 1)),
            constant=0)
    yield c("mul_int16_bcast", "MUL", (2, 3, 8), (8,), (2, 3, 8), ((0.001, 0), (0.0005, 0), (0.0004, 0)),
            dtype="int16")
    yield c("mul_float_relu6", "MUL", (3, 5), (5,), (3, 5), activation="RELU6", dtype="float32")
    divisor = np.array([[1, -128, 127, 40, -3, 90]], np.int8)          # none at the zero point 5
    yield c("div_const_divisor_relu_n1_to_1", "DIV", (4, 6), (1, 6), (4, 6), ((0.02, -4), (0.05, 5), (0.01, 0)),
            "RELU_N1_TO_1", constant=1, constant_values=divisor)
    yield c("div_const_divisor_extreme_scales", "DIV", (3, 6), (1, 6), (3, 6), ((0.5, 0), (0.05, 5), (2.0, 10)),
            constant=1, constant_values=divisor)
    yield c("div_float_bcast", "DIV", (2, 3, 4), (4,), (2, 3, 4), dtype="float32", constant=1,
            constant_values=np.array([0.5, -2.0, 3.0, 1e-3], np.float32))
    yield c("squared_difference_bcast", "SQUARED_DIFFERENCE", (1, 4, 4, 3), (3,), (1, 4, 4, 3),
            ((0.03, 0), (0.02, -20), (0.005, -128)))
    yield c("squared_difference_int16", "SQUARED_DIFFERENCE", (4, 6), (4, 6), (4, 6),
            ((0.001, 0), (0.0015, 0), (0.1, 0)), dtype="int16")
    yield c("squared_difference_float_const", "SQUARED_DIFFERENCE", (2, 5), (5,), (2, 5), dtype="float32",
            constant=1)
    same = ((0.05, -10),) * 3
    yield c("maximum_bcast_both_5d", "MAXIMUM", (2, 1, 3, 1, 2), (1, 2, 1, 4, 1), (2, 2, 3, 4, 2), same)
    yield c("minimum_int16_const", "MINIMUM", (3, 8), (8,), (3, 8), ((0.001, 0),) * 3, dtype="int16", constant=1)
    yield c("maximum_float", "MAXIMUM", (4, 5), (4, 5), (4, 5), dtype="float32")
    yield c("prelu_const_alpha_channels", "PRELU", (1, 4, 4, 5), (1, 1, 5), (1, 4, 4, 5),
            ((0.1, 30), (0.01, 7), (0.07, 10)), constant=1)
    yield c("prelu_int16_int8_alpha", "PRELU", (2, 3, 6), (6,), (2, 3, 6), ((0.001, 0), (0.02, 3), (0.0008, 0)),
            dtype="int16", constant=1)
    yield c("prelu_float_runtime_alpha", "PRELU", (2, 3, 4), (4,), (2, 3, 4), dtype="float32")
    u = sm.unary_case
    for in_q, out_q in (((0.05, 30), (0.03, -128)), ((0.1, 0), (0.1, 5))):
        yield u(f"abs_s{in_q[0]}_to_s{out_q[0]}", "ABS", *in_q, *out_q)
    yield sm.unary16_case("abs_int16_requant", "ABS", ((0.001, 0), (0.0007, 0)))
    yield sm.unary16_case("abs_int16_no_quantization", "ABS")
    yield u("abs_float", "ABS", None, None, dtype="float32")
    yield u("neg_float", "NEG", None, None, dtype="float32")
    # EXP, LOG, SQRT, RSQRT: float results are std:: functions, so the same bytes (LOG, SQRT and
    # RSQRT on |x|, zero included: -inf and inf). Integer RSQRT: int8 and int16, every int8 value.
    yield dataclasses.replace(u("exp_float", "EXP", None, None, dtype="float32"), tolerance=0.0)
    for opcode in ("LOG", "SQRT", "RSQRT"):
        case = u(f"{opcode.lower()}_float_abs", opcode, None, None, dtype="float32")
        yield dataclasses.replace(case, feeds=[[np.abs(a) for a in f] for f in case.feeds], tolerance=0.0)
    for in_q, out_q in (((0.05, -128), (0.02, -128)), ((0.002, -128), (0.3, -100)), ((1.5, -128), (1 / 128, 0))):
        yield u(f"rsqrt_s{in_q[0]}_to_s{out_q[0]}_zp{out_q[1]}", "RSQRT", *in_q, *out_q)
    yield sm.unary16_case("rsqrt_int16", "RSQRT", ((0.001, 0), (0.002, 0)))
    # HARD_SWISH: reluish multiplier shifted left (large input scale) and right (tiny), and an
    # output shift of 16 or more (input scale < output scale / 512).
    for in_q, out_q in (((0.1, 0), (0.06, -120)), ((0.05, -10), (0.035, -90)), ((0.0001, 3), (0.0003, -5)),
                        ((0.00005, -128), (0.04, 0))):
        yield u(f"hard_swish_s{in_q[0]}_zp{in_q[1]}_to_s{out_q[0]}", "HARD_SWISH", *in_q, *out_q)
    yield u("hard_swish_float", "HARD_SWISH", None, None, dtype="float32")
    for in_q, out_q in (((0.05, 0), (0.04, -10)), ((0.03, 127), (1 / 255, 127))):
        yield u(f"elu_s{in_q[0]}_zp{in_q[1]}", "ELU", *in_q, *out_q)
    yield u("elu_float", "ELU", None, None, dtype="float32")


def activation_cases():
    for op, out_scale, out_zp in (("LOGISTIC", 1 / 256, -128), ("TANH", 1 / 128, 0)):
        low = op.lower()
        for in_scale, in_zp in ((0.001, 0), (0.01, -128), (0.05, 3), (0.0123, 127), (0.2, -20),
                                (0.5, 60), (1.0, 0), (4.0, -1)):
            yield sm.unary_case(f"{low}_s{in_scale}_zp{in_zp}", op, in_scale, in_zp, out_scale, out_zp)
        yield sm.unary_case(f"{low}_4d", op, 0.08, 5, out_scale, out_zp, shape=(1, 3, 4, 5))
        yield sm.unary_case(f"{low}_float", op, None, None, dtype="float32")
    leaky = sm.OPT["LEAKY_RELU"]
    for alpha, (si, zi), (so, zo) in ((0.2, (0.05, 3), (0.05, 3)), (0.01, (0.1, -128), (0.03, 20)),
                                      (1.7, (0.02, 127), (0.06, -128))):
        yield sm.unary_case(f"leaky_relu_alpha{alpha}", "LEAKY_RELU", si, zi, so, zo, options_type=leaky,
                            options=sm.b.T(f0=("float32", alpha)))
    yield sm.unary_case("leaky_relu_float", "LEAKY_RELU", None, None, dtype="float32", options_type=leaky,
                        options=sm.b.T(f0=("float32", 0.3)))
    # RELU rescales (ratio below one, above one, equal; output zero point at either end);
    # RELU6 clamps in the input's quantization, its output quantization unread (TFLM's quirk).
    for (si, zi), (so, zo) in (((0.05, 3), (0.05, 3)), ((0.5, 5), (0.2, -128)), ((0.02, -128), (0.07, 127)),
                               ((0.1, 127), (0.03, -20)), ((1e-3, 0), (4.0, -100))):
        yield sm.unary_case(f"relu_s{si}_zp{zi}_to_s{so}_zp{zo}", "RELU", si, zi, so, zo)
    for (si, zi), (so, zo) in (((0.05, 3), (0.05, 3)), ((0.1, -128), (0.3, 50)), ((0.01, 127), (0.01, 127)),
                               ((0.02, -100), (0.02, -100)), ((1.0, 0), (1.0, 0))):
        yield sm.unary_case(f"relu6_s{si}_zp{zi}_to_s{so}_zp{zo}", "RELU6", si, zi, so, zo)
    yield sm.unary_case("relu_float", "RELU", None, None, dtype="float32")
    yield sm.unary_case("relu6_float", "RELU6", None, None, dtype="float32")


def softmax_cases():
    s = sm.softmax_case
    yield s("softmax_1x10_beta1", (1, 10), 0.1, 2, 1.0)
    yield s("softmax_3x10_beta0.5", (3, 10), 0.05, -128, 0.5)
    yield s("softmax_2x100_beta2", (2, 100), 0.1, 127, 2.0)
    # int8 feeds are [-128s, 127s, zero points, near the zero point, random x3, peaked, tie]:
    # uniform rows of 1000 make the sum of exps >= 512, where TFLM stops.
    wide = s("softmax_1x1000", (1, 1000), 0.05, 0, 1.0)
    yield dataclasses.replace(wide, name="softmax_1x1000_sum_of_exps_over_512", feeds=wide.feeds[:4])
    wide.feeds = wide.feeds[4:]
    yield wide
    yield s("softmax_1x400_uniform_rows", (1, 400), 0.05, 0, 1.0)
    yield s("softmax_2x257_beta0.1_scale0.5", (2, 257), 0.5, 7, 0.1)
    yield s("softmax_rank4_beta1.7", (1, 2, 3, 12), 0.07, -4, 1.7)
    yield s("softmax_beta_times_scale_50", (2, 16), 1.0, 0, 50.0)
    yield s("softmax_tiny_scale", (2, 16), 0.0005, 0, 1.0)
    yield s("softmax_depth1", (4, 1), 0.1, 0, 1.0)
    yield s("softmax_float_beta0.5", (3, 20), None, None, 0.5, dtype="float32")


def quantize_cases():
    for scale, zp in ((0.037, -7), (0.5, -128), (1 / 256, 127), (0.1, 0), (3.0, 5)):
        yield sm.quantize_float_case(f"quantize_float_s{scale:.4g}_zp{zp}", scale, zp)
    for label, (si, zi), (so, zo) in (
            ("same_scale_zp_shift", (0.05, -128), (0.05, 127)),
            ("ratio_one", (0.05, 3), (0.05, 3)),
            ("ratio_below_one", (float(np.nextafter(sm.F32(0.05), sm.F32(0))), 1), (0.05, -2)),
            ("ratio_0.3", (0.03, 10), (0.1, -20)),
            ("ratio_3.7", (0.037, -50), (0.01, 0)),
            ("ratio_tiny_shift31", (1e-9, 0), (2.0, 0)),
            ("ratio_zero", (1e-10, 0), (1.0, 9)),
            ("ratio_large", (1.0, 0), (0.001, -1))):
        yield sm.requantize_case(f"requantize_{label}", si, zi, so, zo)
    for scale, zp in ((0.037, -7), (1 / 3, -128), (0.001, 127), (1e-7, 0), (250.0, 1)):
        yield sm.dequantize_case(f"dequantize_s{scale:.4g}_zp{zp}", scale, zp)


def shape_cases():
    c = sm.concatenation_case
    yield c("concat_axis3_two", [(1, 2, 3, 4), (1, 2, 3, 2)], 3)
    yield c("concat_axis-1_three_rank2", [(2, 3), (2, 1), (2, 5)], -1)
    yield c("concat_axis0_rank3", [(1, 2, 3), (2, 2, 3)], 0)
    yield c("concat_axis1_four", [(1, 1, 2, 2), (1, 3, 2, 2), (1, 2, 2, 2), (1, 1, 2, 2)], 1)
    yield c("concat_axis-3", [(2, 2, 2, 3), (2, 1, 2, 3)], -3)
    yield c("concat_axis2_zp127", [(1, 2, 1, 3), (1, 2, 4, 3)], 2, zp=127)
    yield c("concat_int8_inputs_quantized_differently", [(1, 2, 3), (1, 2, 2)], 2, zp=-7, scale=0.05,
            input_quants=[(0.1, 3), (0.05, -7)])
    yield c("concat_float_axis1", [(2, 3, 2), (2, 1, 2)], 1, dtype="float32")
    p = sm.pad_case
    yield p("pad_rank4", (1, 3, 3, 2), [(0, 0), (1, 2), (2, 0), (0, 1)])
    yield p("pad_rank4_batch", (2, 2, 2, 2), [(1, 1), (0, 0), (1, 1), (0, 0)], zp=-128)
    yield p("pad_rank3", (2, 3, 4), [(0, 1), (3, 0), (1, 1)], zp=127)
    yield p("pad_rank2", (3, 5), [(2, 2), (0, 3)])
    yield p("pad_rank1", (7,), [(3, 4)])
    yield p("pad_zero", (1, 2, 2, 3), [(0, 0)] * 4)
    yield p("pad_float", (1, 3, 2, 2), [(0, 0), (1, 1), (2, 1), (0, 0)], dtype="float32")
    for value in (-128, 127, 42):
        yield p(f"padv2_int8_value{value}", (1, 3, 3, 2), [(0, 0), (1, 0), (1, 2), (0, 0)], zp=-7,
                value=value, opcode="PADV2")
    yield p("padv2_float_zero", (2, 3), [(1, 0), (0, 2)], dtype="float32", value=0.0, opcode="PADV2")
    # StridedSlice edges where TFLM's rules are easy to get wrong (see test_ops.py for the indices
    # TFLM's strided_slice_logic.h gives): offset adds the *clamped* start; negative strides; masks.
    ss = sm.strided_slice_case
    yield ss("strided_slice_offset_clamped_start", (2, 6), (2, 3), [0, -9], [2, 3], [1, 1], offset=True)
    yield ss("strided_slice_offset_float", (2, 6), (2, 3), [0, -9], [2, 3], [1, 1], offset=True,
             dtype="float32")
    yield ss("strided_slice_negative_strides", (1, 5, 4), (1, 3, 3), [0, 0, -1], [1, -6, 0], [1, -2, -1],
             begin_mask=0b010)
    yield ss("strided_slice_shrink_end_mask", (2, 3, 4), (2, 2), [1, -2, 0], [2, 0, 0], [1, 1, 2],
             shrink_axis_mask=0b001, end_mask=0b110, zp=127)
    yield sm.reshape_case("reshape_rank4_to_rank2", (1, 2, 3, 4), (1, 24))
    yield sm.reshape_case("reshape_float", (2, 6), (3, 4), dtype="float32")
    yield sm.reshape_case("squeeze_all_unit_axes", (1, 6, 1, 4), (6, 4), opcode="SQUEEZE")
    yield sm.reshape_case("squeeze_axis_neg2", (2, 1, 5), (2, 5), opcode="SQUEEZE", axes=[-2])
    yield sm.reshape_case("expand_dims_axis_neg1", (3, 4), (3, 4, 1), opcode="EXPAND_DIMS", axes=-1,
                          dtype="float32")
    yield sm.reshape_case("expand_dims_axis0", (5, 2), (1, 5, 2), opcode="EXPAND_DIMS", axes=0)
    t = sm.transpose_case
    yield t("transpose_rank2", (5, 7), (1, 0))
    yield t("transpose_nhwc_to_nchw", (2, 3, 4, 5), (0, 3, 1, 2), zp=127)
    yield t("transpose_rank6", (2, 1, 3, 2, 2, 3), (5, 3, 0, 4, 2, 1), zp=-128)
    yield t("transpose_unit_axis_alias", (1, 6, 5, 1), (0, 3, 1, 2))
    yield t("transpose_float_rank3", (3, 4, 2), (2, 0, 1), dtype="float32")
    yield sm.pack_case("pack_axis0_three", (2, 3), 3, 0)
    yield sm.pack_case("pack_axis_last_two", (1, 4, 3), 2, -1, zp=127)
    yield sm.pack_case("pack_axis1_rank1_inputs", (5,), 4, 1)
    yield sm.pack_case("pack_float_axis2", (2, 3, 2), 2, 2, dtype="float32")
    sp = sm.split_case
    yield sp("split_axis3_two", "SPLIT", (1, 2, 3, 6), 3, [3, 3])
    yield sp("split_axis_neg2_three", "SPLIT", (2, 6, 4), -2, [2, 2, 2], zp=127)
    yield sp("split_float_axis0", "SPLIT", (4, 3), 0, [1, 1, 1, 1], dtype="float32")
    yield sp("split_v_minus_one", "SPLIT_V", (1, 7, 2, 3), 1, [2, 4, 1], size_splits=[2, -1, 1])
    yield sp("split_v_axis_last", "SPLIT_V", (3, 5), -1, [1, 4], zp=-128)
    yield sp("unpack_axis1", "UNPACK", (2, 3, 4), 1, [1, 1, 1])
    yield sp("unpack_axis_neg1_float", "UNPACK", (2, 2), -1, [1, 1], dtype="float32")
    r = sm.resize_nearest_case
    yield r("resize_nearest_x2", (1, 3, 4, 5), (6, 8))
    yield r("resize_nearest_down_batch2", (2, 7, 5, 3), (3, 2), zp=127)
    yield r("resize_nearest_align_corners_odd", (1, 3, 5, 2), (7, 11), align_corners=True)
    yield r("resize_nearest_half_pixel_odd", (1, 4, 6, 3), (7, 9), half_pixel_centers=True, zp=-128)
    yield r("resize_nearest_float", (1, 2, 3, 4), (5, 4), half_pixel_centers=True, dtype="float32")
    # Issue 12's spatial and normalization ops: only what the tflm-ops cases leave out (those cover
    # int8 RESIZE_BILINEAR with align_corners and half_pixel_centers, the float kernels of
    # L2_NORMALIZATION and LOG_SOFTMAX, and BATCH_TO_SPACE_ND's crops).
    nc = sm.normalization_case
    yield nc("l2_normalization_rank4_zp127", "L2_NORMALIZATION", (2, 3, 2, 5), in_zp=127, out_quant=(0.02, -3))
    yield nc("log_softmax_large_scale_capped", "LOG_SOFTMAX", (2, 6), in_scale=100.0, in_zp=0)
    yield nc("log_softmax_small_scale", "LOG_SOFTMAX", (3, 40), in_scale=0.003, in_zp=5)
    rb = lambda *a, **k: r(*a, opcode="RESIZE_BILINEAR", **k)
    yield rb("resize_bilinear_down_batch2", (2, 7, 5, 3), (3, 4), zp=127)
    yield rb("resize_bilinear_float_half_pixel", (1, 4, 3, 2), (9, 5), half_pixel_centers=True, dtype="float32")


def indexing_cases():
    g = sm.gather_case
    yield g("gather_axis0_repeats", (5, 3), [4, 0, 0, 2, 4, 1])
    yield g("gather_axis_neg1_2d_indices", (2, 3, 6), [[5, 0], [3, 3], [1, 4]], axis=-1, zp=127)
    yield g("gather_batch_dims1_axis2", (2, 3, 4, 2), [[3, 0, 1], [2, 2, 0]], axis=2, batch_dims=1)
    yield g("gather_batch_dims_neg1", (3, 4, 2), [[1], [3], [0]], axis=1, batch_dims=-1, zp=-128)
    yield g("gather_float_axis1", (2, 5, 3), [4, 1], axis=1, dtype="float32")
    yield g("gather_int32_scalar_index", (4, 3), 2, axis=0, dtype="int32")
    sd = sm.space_depth_case
    yield sd("space_to_depth_b2_batch2", "SPACE_TO_DEPTH", (2, 4, 6, 3), 2, zp=127)
    yield sd("space_to_depth_b3_float", "SPACE_TO_DEPTH", (1, 6, 3, 2), 3, dtype="float32")
    yield sd("space_to_depth_b1", "SPACE_TO_DEPTH", (1, 2, 3, 4), 1)
    yield sd("depth_to_space_b2_batch2", "DEPTH_TO_SPACE", (2, 3, 2, 8), 2, zp=-128)
    yield sd("depth_to_space_b3_float", "DEPTH_TO_SPACE", (1, 2, 1, 18), 3, dtype="float32")
    sb = sm.space_batch_case
    yield sb("space_to_batch_pads_batch2", "SPACE_TO_BATCH_ND", (2, 3, 5, 2), [2, 3], [[1, 0], [2, 2]], zp=100)
    yield sb("batch_to_space_float_3d", "BATCH_TO_SPACE_ND", (4, 5, 3), [2], [[0, 1]], dtype="float32")
    mp = sm.mirror_pad_case
    yield mp("mirror_pad_reflect_rank4", (1, 4, 3, 2), [(0, 0), (3, 1), (2, 2), (0, 1)], False)
    yield mp("mirror_pad_symmetric_rank3", (2, 3, 4), [(2, 0), (3, 3), (0, 4)], True, zp=127)
    yield mp("mirror_pad_reflect_rank1_clamped_tail", (3,), [(2, 5)], False)
    yield mp("mirror_pad_symmetric_rank6", (2, 1, 2, 1, 3, 2), [(1, 1), (1, 0), (0, 2), (0, 1), (3, 0), (2, 2)],
             True, zp=-128)
    yield mp("mirror_pad_float_reflect", (3, 5), [(1, 2), (4, 0)], False, dtype="float32")
    # CAST: float inputs stay inside the integer target's range (outside it C++ is undefined).
    for src, dst in (("float32", "int8"), ("int8", "float32"), ("int32", "int8"), ("int8", "int32"),
                     ("int16", "int32"), ("int32", "int16"), ("float32", "int32"), ("int32", "float32"),
                     ("int16", "float32"), ("int8", "int16")):
        yield sm.cast_case(f"cast_{src}_to_{dst}", (2, 3, 5), src, dst)
    am = sm.arg_min_max_case
    yield am("arg_max_axis1_int64", "ARG_MAX", (2, 7, 3), 1, out_dtype="int64", axis_dtype="int64")
    yield am("arg_max_axis0_rank1", "ARG_MAX", (9,), 0, zp=127)
    yield am("arg_min_axis_neg1", "ARG_MIN", (3, 2, 5), -1, zp=-128)
    yield am("arg_min_axis0_int64_float", "ARG_MIN", (4, 3), 0, out_dtype="int64", dtype="float32")
    yield am("arg_max_axis2_float", "ARG_MAX", (2, 3, 4, 2), 2, dtype="float32")


def lstm_cases():
    """Beyond the trained_lstm_int8 goldens (batch 1, 20 units, cell scale 2^-12): several batch rows
    in both layouts, an odd unit count, the cell clip, other cell scales (Tanh's input scaling), float;
    two invokes per feed (three for one case), the hidden and cell state carried between them."""
    m = sm.lstm_case
    yield m("lstm_batch_major_b2_t5_d6_u4", 2, 5, 6, 4)
    yield m("lstm_time_major_t4_b3_u5_clip_cell2^-11", 3, 4, 7, 5, time_major=True, cell_scale_log2=-11,
            cell_clip=1.5, in_zp=-128, hidden_zp=20)
    yield m("lstm_cell2^-15_u3", 1, 6, 3, 3, cell_scale_log2=-15, in_zp=127, hidden_zp=0, invokes=3)
    yield m("lstm_float_b2_t4", 2, 4, 5, 6, dtype="float32")
    yield m("lstm_float_time_major_clip", 2, 3, 4, 3, time_major=True, dtype="float32", cell_clip=0.8)


def svdf_cases():
    """Beyond tflm-ops' int8 cases: three and five invokes per feed (state carried), rank 3, float."""
    s = sm.svdf_case
    yield s("svdf_int16_state_rank2_batch2_5_invokes", 2, 9, 3, 2, 4, invokes=5, in_zp=-128, out_zp=10)
    yield s("svdf_int8_state_rank3", 1, 12, 2, 3, 5, time_dtype="int8", in_zp=127, out_zp=-20)
    yield s("svdf_float_rank2_relu", 2, 7, 3, 2, 3, activation="RELU", dtype="float32")
    yield s("svdf_float_memory1_relu6", 1, 5, 4, 1, 1, activation="RELU6", dtype="float32", invokes=2)


def _int4_twins(case):
    """The case with its FULLY_CONNECTED/CONV_2D/DEPTHWISE_CONV_2D weights requantized to 4 bits and written as TFLite
    INT4 (quantize.int4_weights, tflite_writer), and its twin: the same values written as int8."""
    model = int4_weights(parse_model(case.data, f"{case.name}.tflite"))
    int4 = dataclasses.replace(case, name=case.name + "_int4", data=write_model(model))
    for t in model.tensors:
        t.int4 = False
    return int4, dataclasses.replace(case, name=case.name + "_int4_as_int8", data=write_model(model))


def int4_cases():
    """4-bit weights: FullyConnected, Conv2D and DepthwiseConv2D packed (depth 600: blocks and groups
    of eight; batches; SAME padding; depthwise: six channels, a quad and two left over, and a
    depth multiplier), and an odd depth or filter size, which the generator unpacks (a depthwise
    layer of one input channel runs as a Conv2D, here of filter size 9)."""
    f, c, d = sm.fully_connected_case, sm.conv_case, sm.depthwise_case
    for case in (f("fc_w4_depth600", (1, 600), 5, per_channel=True),
                 f("fc_w4_batches2_relu_zp-128", (2, 36), 5, "RELU", in_zp=-128),
                 f("fc_w4_odd_depth", (1, 37), 9, per_channel=True),
                 c("conv_w4_k3_same", (1, 7, 6, 4), 6, (3, 3), activation="RELU"),
                 d("dw_w4_m1_c6_same_relu", (1, 6, 5, 6), 1, (3, 3), activation="RELU", in_zp=-7),
                 d("dw_w4_m2_s2_valid", (1, 7, 6, 3), 2, (3, 3), (2, 2), padding="VALID"),
                 d("dw_w4_in1_m4_odd_filter", (1, 6, 6, 1), 4, (3, 3))):
        yield from _int4_twins(case)


INT4_TWINS = ("fc_w4_depth600", "fc_w4_batches2_relu_zp-128", "fc_w4_odd_depth", "conv_w4_k3_same",
              "dw_w4_m1_c6_same_relu", "dw_w4_m2_s2_valid", "dw_w4_in1_m4_odd_filter")


def chain_cases():
    yield sm.chain_conv_pool_fc_softmax("chain_conv_maxpool_fc_softmax")
    yield sm.chain_quantize_depthwise_dequantize("chain_quantize_depthwise_dequantize")
    yield sm.chain_residual_add_concat("chain_conv_add_concat_mean")
    yield sm.chain_shape_slice_pack_reshape("chain_shape_slice_pack_reshape")
    # Two residual blocks, and the same pruned to half its channels (--prune-neurons 0.5: the
    # residual group and block 1's inner channels; tests/generator/test_prune_residual.py).
    residual = sm.chain_residual_blocks("chain_residual_blocks")
    yield residual
    pruned = prune.prune_neurons(parse_model(residual.data, "residual.tflite"), 0.5)[0]
    assert pruned.tensors[pruned.outputs[0]].shape == (1, 4) and pruned.tensors[pruned.ops[3].outputs[0]].shape[-1] == 4
    yield dataclasses.replace(residual, name="chain_residual_blocks_pruned", data=write_model(pruned))


def model_cases():
    """Whole models from ../shared that no TFLM golden covers: the hybrid kws (float activations,
    int8 conv weights; test_hybrid.py holds it against the float model) on the int8 kws model's
    golden inputs, dequantized. Its float depthwise and dense layers sum in float32 here and in
    float64 in the reference, and a hybrid layer's scale follows its input's largest value."""
    path = SHARED / "models" / "mlperf-tiny" / "kws_ref_model_float32.tflite"
    if path.exists() and (SHARED / "golden" / "kws_ref_model").is_dir():
        feeds = [[x] for _, x in dequantized_golden_inputs("kws_ref_model")]
        yield sm.Case("kws_ref_model_float32_hybrid", path.read_bytes(), feeds, tolerance=1e-5)


def catalogue():
    cases = []
    for family in (model_cases, conv_cases, depthwise_cases, transpose_conv_cases, batch_matmul_cases,
                   fully_connected_cases, pool_cases, mean_cases, reduce_cases,
                   arithmetic_cases, elementwise_cases, activation_cases, softmax_cases, quantize_cases, shape_cases,
                   indexing_cases, lstm_cases, svdf_cases, chain_cases, int4_cases):
        cases.extend(family())
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    return cases


CASES = catalogue()


def case_params():
    for case in CASES:
        yield pytest.param(case, id=case.name)


# ---- building and running --------------------------------------------------------------------
# The cases are compiled into a few programs of CHUNK networks each (many_networks.HostProgram),
# two at a time: one build parses the library once for many networks, which is most of a small
# network's build time. A chunk that does not compile or fails to run is redone one program per
# case (as `tinynet run` builds them), so each case reports its own error; and
# test_every_chunk_builds_and_runs_as_one_program fails, since a network that works alone must
# also work next to others.
CHUNK = 48


def _write_feeds(case, model, work, k):
    """The input files of every feed of case k; returns [(input paths, output paths)] per feed."""
    runs = []
    for f, feed in enumerate(case.feeds):
        ins = []
        for j, array in enumerate(feed):
            path = work / f"{k}_{f}_in{j}.bin"
            np.ascontiguousarray(array).tofile(path)
            ins.append(path)
        runs.append((ins, [work / f"{k}_{f}_out{j}.bin" for j in range(len(model.outputs))]))
    return runs


def _run_chunk(cases, work):
    """One program for `cases`, run on every feed; name -> [output paths per feed]."""
    models = [parse_model(case.data, f"{case.name}.tflite") for case in cases]
    program = HostProgram("cpp-vs-reference", models)
    lines, outputs = [], {}
    for k, (case, model) in enumerate(zip(cases, models)):
        runs = _write_feeds(case, model, work, k)
        lines += [(k, ins, outs, case.invokes) for ins, outs in runs]
        outputs[case.name] = [outs for _, outs in runs]
    program.run(work, lines)
    return outputs


def _run_alone(case, work):
    """The case in its own program (runner.build_host, what `tinynet run` builds); its outputs."""
    model = parse_model(case.data, f"{case.name}.tflite")
    binary = runner.build_host(emit.generate_header(model, "m"), "m")
    runs = _write_feeds(case, model, work, 0)
    for ins, outs in runs:
        # The runner invokes once per tensor of its input files (targets/host/run_main.cpp): the
        # inputs repeated `invokes` times, the outputs of the last step kept.
        repeated = []
        for path in ins:
            data = path.read_bytes()
            path.with_suffix(".steps").write_bytes(data * case.invokes)
            repeated.append(path.with_suffix(".steps"))
        runner.run_host(binary, repeated, outs)
        for path in outs:
            data = path.read_bytes()
            path.write_bytes(data[len(data) - len(data) // case.invokes:])
    return [outs for _, outs in runs]


@pytest.fixture(scope="module")
def build_cache(tmp_path_factory):
    """Builds go to a fresh folder for this session unless $TINYNET_CACHE names one."""
    saved = os.environ.get("TINYNET_CACHE")
    if not saved:
        os.environ["TINYNET_CACHE"] = str(tmp_path_factory.mktemp("tinynet-cache"))
    yield os.environ["TINYNET_CACHE"]
    if not saved:
        del os.environ["TINYNET_CACHE"]


@pytest.fixture(scope="module")
def outputs(request, build_cache, tmp_path_factory):
    """Every selected case built and run on its feeds: (name -> [output paths per feed] or the
    exception, {chunk number: why it failed as one program})."""
    selected = [item.callspec.params["case"] for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec") and "case" in item.callspec.params]
    chunks = [selected[i:i + CHUNK] for i in range(0, len(selected), CHUNK)]
    results, chunk_errors = {}, {}

    def run(n, chunk):
        try:
            return _run_chunk(chunk, tmp_path_factory.mktemp(f"chunk{n}"))
        except Exception as error:       # redone case by case below
            chunk_errors[n] = error
            return {}

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for done in pool.map(run, range(len(chunks)), chunks):
            results.update(done)
        alone = [case for n in sorted(chunk_errors) for case in chunks[n]]
        futures = {pool.submit(_run_alone, case, tmp_path_factory.mktemp("alone")): case.name for case in alone}
        for future in concurrent.futures.as_completed(futures):
            try:
                results[futures[future]] = future.result()
            except Exception as error:   # reported by the case itself
                results[futures[future]] = error
    return results, chunk_errors


# ---- comparing -------------------------------------------------------------------------------

def describe_mismatch(case, k, feed, got, want):
    bad = np.argwhere(got != want) if case.tolerance is None else np.argwhere(
        ~np.isclose(got, want, rtol=case.tolerance, atol=case.tolerance))
    lines = [f"{case.name} feed {k}: {len(bad)} of {want.size} values differ"]
    for index in bad[:8]:
        index = tuple(int(i) for i in index)
        lines.append(f"  at {index}: C++ {got[index]!r}, reference {want[index]!r}")
    if len(feed) == 1 and feed[0].size == want.size:
        flat = feed[0].reshape(-1)
        first = [int(np.ravel_multi_index(tuple(i), want.shape)) for i in bad[:8]]
        lines.append(f"  inputs there: {[flat[i].item() for i in first]}")
    return "\n".join(lines)


def outputs_equal(case, got, want):
    if case.tolerance is None or case.tolerance == 0.0:
        return got.tobytes() == want.tobytes()
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    return bool(np.allclose(got, want, rtol=case.tolerance, atol=case.tolerance * scale))


@pytest.mark.parametrize("case", list(case_params()))
def test_cpp_matches_reference(case, outputs):
    paths = outputs[0][case.name]
    if isinstance(paths, Exception):
        raise paths
    model = parse_model(case.data, f"{case.name}.tflite")
    interpreter = Interpreter(model)

    def reference(feed):
        interpreter.reset()          # each feed from the reset state, `invokes` times (stateful)
        for _ in range(case.invokes):
            result = interpreter.invoke(feed)
        return result
    expected = case.expected or reference
    failures = []
    for k, (feed, out_paths) in enumerate(zip(case.feeds, paths)):
        for want, path in zip(expected(list(feed)), out_paths):
            got = np.fromfile(path, dtype=want.dtype).reshape(want.shape)
            if not outputs_equal(case, got, want):
                failures.append(describe_mismatch(case, k, feed, got, want))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", INT4_TWINS)
def test_int4_model_gives_the_bytes_of_its_int8_twin(name, outputs):
    """TFLM computes an int4 model as the int8 model with the unpacked weights: the C++ of the INT4
    file (weights packed or unpacked by the compiler) gives the bytes of the same values as int8."""
    by_name = {c.name: c for c in CASES}
    int4, twin = by_name[name + "_int4"], by_name[name + "_int4_as_int8"]
    assert any(t.int4 for t in parse_model(int4.data, "int4.tflite").tensors)
    assert not any(t.int4 for t in parse_model(twin.data, "twin.tflite").tensors)
    header = emit.generate_header(parse_model(int4.data, "int4.tflite"), "m")
    packed = "odd" not in name   # FullyConnected of even depth, Conv2D of even filter size, DepthwiseConv2D
    assert ("tinynet::packed_int4<" in header) == packed and ("tinynet::unpack_int4<" in header) != packed
    got, want = outputs[0][int4.name], outputs[0][twin.name]
    for paths in (got, want):
        if isinstance(paths, Exception):
            raise paths
    for k, (a, b) in enumerate(zip(got, want)):
        for pa, pb in zip(a, b):
            assert open(pa, "rb").read() == open(pb, "rb").read(), f"{name} feed {k}"


def test_every_chunk_builds_and_runs_as_one_program(outputs):
    """Networks that work alone must also work together: several generated headers in one program
    (how an application with two models looks), one static instance each."""
    chunk_errors = outputs[1]
    assert not chunk_errors, "\n".join(f"chunk {n}: {error}" for n, error in sorted(chunk_errors.items()))


def test_catalogue_covers_every_op_the_emitter_supports():
    """Every op the registry claims (the emitter writes it) appears in some case, so that a claimed
    op the C++ library cannot compile fails here."""
    from tinynet_py.tflite import parse_model as parse
    seen = set()
    for case in CASES:
        seen.update(op.opcode for op in parse(case.data, case.name).ops)
    from tinynet_py import ops
    wanted = set(ops.SUPPORTED_OPS)
    assert wanted <= seen, sorted(wanted - seen)


def test_cli_run_gives_the_same_bytes(tmp_path, build_cache):
    """The same comparison through `scripts/tinynet run` (one input per invocation), for a chain."""
    case = next(c for c in CASES if c.name == "chain_conv_maxpool_fc_softmax")
    model_path = tmp_path / "chain.tflite"
    model_path.write_bytes(case.data)
    reference = Interpreter(parse_model(case.data, str(model_path)))
    for k, feed in enumerate(case.feeds[:3]):
        in_path, out_path = tmp_path / f"in{k}.bin", tmp_path / f"out{k}.bin"
        feed[0].tofile(in_path)
        proc = run_tinynet("run", model_path, "--input", in_path, "--output", out_path)
        assert proc.returncode == 0, proc.stderr
        want = reference.invoke(feed)[0]
        assert out_path.read_bytes() == want.tobytes()
