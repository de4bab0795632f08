"""Ops that no golden model exercises, on synthetic one-op models: checked against
direct loop transliterations of TFLM's reference kernels, or against float math within
the quantization step."""

import itertools

import numpy as np
import pytest

from tinynet_py import tflite_builder as b
from tinynet_py import fixedpoint as fp
from tinynet_py.errors import ModelError
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import parse_model
from tinynet_py import schema

OPCODES = {name: code for code, name in enumerate(schema.BUILTIN_OPERATORS)}
RNG = np.random.default_rng(1234)


def one_op(opcode, tensors, inputs, outputs, buffers=(), options_type=0, options=None):
    op = b.operator(0, inputs, outputs, options_type, options)
    graph_inputs = [i for i in inputs if i >= 0 and tensors[i].fields[2][1] == 0]
    data = b.model(tensors, [op], graph_inputs, outputs, [OPCODES[opcode]], buffers)
    return Interpreter(parse_model(data, f"{opcode.lower()}.tflite"))


def random_int8(shape):
    return RNG.integers(-128, 128, size=shape, dtype=np.int64).astype(np.int8)


def naive_conv(x, w, bias, in_zp, out_zp, mult, shift, stride, dilation, pad, out_hw, act,
               depthwise=False):
    """reference_integer_ops::ConvPerChannel / DepthwiseConvPerChannel, loop by loop."""
    n, h, wd, c = x.shape
    out_c = w.shape[3] if depthwise else w.shape[0]
    kh, kw = w.shape[1:3]
    out = np.zeros((n, *out_hw, out_c), np.int64)
    for bi, oy, ox, oc in itertools.product(range(n), range(out_hw[0]), range(out_hw[1]), range(out_c)):
        acc = 0
        for ky, kx in itertools.product(range(kh), range(kw)):
            iy = oy * stride[0] - pad[0] + dilation[0] * ky
            ix = ox * stride[1] - pad[1] + dilation[1] * kx
            if not (0 <= iy < h and 0 <= ix < wd):
                continue
            if depthwise:
                m = out_c // c
                acc += int(w[0, ky, kx, oc]) * (int(x[bi, iy, ix, oc // m]) - in_zp)
            else:
                acc += sum(int(w[oc, ky, kx, ic]) * (int(x[bi, iy, ix, ic]) - in_zp) for ic in range(c))
        acc += int(bias[oc])
        v = int(fp.multiply_by_quantized_multiplier(acc, mult[oc], shift[oc])) + out_zp
        out[bi, oy, ox, oc] = min(max(v, act[0]), act[1])
    return out


@pytest.mark.parametrize("depthwise", [False, True])
@pytest.mark.parametrize("stride, dilation, padding", [((1, 1), (1, 1), "SAME"),
                                                       ((2, 1), (1, 2), "SAME"),
                                                       ((2, 2), (1, 1), "VALID")])
def test_conv_matches_loop_reference(depthwise, stride, dilation, padding):
    x = random_int8((1, 7, 6, 3))
    if depthwise:
        w = RNG.integers(-127, 128, (1, 3, 3, 6)).astype(np.int8)      # depth multiplier 2
        out_c = 6
    else:
        w = RNG.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
        out_c = 4
    bias = RNG.integers(-5000, 5000, out_c).astype(np.int32)
    scales = RNG.uniform(0.002, 0.02, out_c).astype(np.float32)
    eff = [(3 - 1) * d + 1 for d in dilation]
    if padding == "SAME":
        out_hw = [(s + st - 1) // st for s, st in zip((7, 6), stride)]
    else:
        out_hw = [(s - e + st) // st for s, e, st in zip((7, 6), eff, stride)]
    pad = [max(((o - 1) * st + e - s) // 2, 0) for o, st, e, s in zip(out_hw, stride, eff, (7, 6))]
    tensors = [b.tensor((1, 7, 6, 3), "int8", name="x", scale=0.05, zero_point=7),
               b.tensor(w.shape, "int8", buffer=1, name="w", scale=scales, zero_point=[0] * out_c,
                        quantized_dimension=3 if depthwise else 0),
               b.tensor((out_c,), "int32", buffer=2, name="b", scale=scales * 0.05),
               b.tensor((1, *out_hw, out_c), "int8", name="y", scale=0.1, zero_point=-5)]
    pad_code = 0 if padding == "SAME" else 1
    if depthwise:
        options = b.T(f0=("int8", pad_code), f1=("int32", stride[1]), f2=("int32", stride[0]),
                      f3=("int32", 2), f4=("int8", 3), f5=("int32", dilation[1]),
                      f6=("int32", dilation[0]))
        interpreter = one_op("DEPTHWISE_CONV_2D", tensors, [0, 1, 2], [3],
                             [w.tobytes(), bias.tobytes()], 2, options)
    else:
        options = b.T(f0=("int8", pad_code), f1=("int32", stride[1]), f2=("int32", stride[0]),
                      f3=("int8", 3), f4=("int32", dilation[1]), f5=("int32", dilation[0]))
        interpreter = one_op("CONV_2D", tensors, [0, 1, 2], [3],
                             [w.tobytes(), bias.tobytes()], 1, options)
    got = interpreter.invoke([x])[0]
    mult, shift = fp.quantize_multipliers(np.float64(np.float32(0.05)) * scales.astype(np.float64)
                                          / np.float64(np.float32(0.1)))
    act_max = min(127, -5 + int(fp.tflite_round(np.float32(6.0) / np.float32(0.1))))
    want = naive_conv(x, w, bias, 7, -5, mult, shift, stride, dilation, pad, out_hw,
                      (-5, act_max), depthwise)
    assert np.array_equal(got, want)


def pool_options(kernel, stride, padding="VALID", activation=0):
    return b.T(f0=("int8", 0 if padding == "SAME" else 1), f1=("int32", stride[1]),
               f2=("int32", stride[0]), f3=("int32", kernel[1]), f4=("int32", kernel[0]),
               f5=("int8", activation))


def test_max_pool_same_padding():
    x = random_int8((1, 5, 5, 2))
    tensors = [b.tensor((1, 5, 5, 2), "int8", scale=0.1, zero_point=0),
               b.tensor((1, 3, 3, 2), "int8", scale=0.1, zero_point=0)]
    got = one_op("MAX_POOL_2D", tensors, [0], [1], (), 5, pool_options((3, 3), (2, 2), "SAME")).invoke([x])[0]
    padded = np.pad(x.astype(int), ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=-999)
    want = np.array([[[padded[0, 2 * i:2 * i + 3, 2 * j:2 * j + 3, c].max() for c in range(2)]
                      for j in range(3)] for i in range(3)])
    assert np.array_equal(got[0], want)


def test_average_pool_counts_only_inside_taps_and_rounds_away_from_zero():
    x = random_int8((1, 5, 5, 2))
    tensors = [b.tensor((1, 5, 5, 2), "int8", scale=0.1, zero_point=0),
               b.tensor((1, 3, 3, 2), "int8", scale=0.1, zero_point=0)]
    got = one_op("AVERAGE_POOL_2D", tensors, [0], [1], (), 5,
                 pool_options((3, 3), (2, 2), "SAME")).invoke([x])[0]
    for i, j, c in itertools.product(range(3), range(3), range(2)):
        window = x[0, max(2 * i - 1, 0):2 * i + 2, max(2 * j - 1, 0):2 * j + 2, c].astype(int)
        total, n = int(window.sum()), window.size
        want = (total + n // 2) // n if total > 0 else -((n // 2 - total) // n)
        assert got[0, i, j, c] == want


def test_mean_over_height_and_width():
    x = random_int8((1, 4, 5, 3))
    tensors = [b.tensor((1, 4, 5, 3), "int8", scale=0.2, zero_point=-10),
               b.tensor((2,), "int32", buffer=1, name="axis"),
               b.tensor((1, 1, 1, 3), "int8", scale=0.1, zero_point=4)]
    axes = np.array([1, 2], np.int32)
    got = one_op("MEAN", tensors, [0, 1], [2], [axes.tobytes()], 27,
                 b.T(f0=("bool", 1))).invoke([x])[0].ravel()
    real = (x.astype(float) + 10).mean(axis=(0, 1, 2)) * 0.2
    assert np.max(np.abs((got.astype(float) - 4) * 0.1 - real)) <= 0.1 + 1e-6


@pytest.mark.parametrize("op, out_scale, out_zp, fn", [
    ("LOGISTIC", 1 / 256, -128, lambda v: 1 / (1 + np.exp(-v))),
    ("TANH", 1 / 128, 0, np.tanh),
])
@pytest.mark.parametrize("in_scale, in_zp", [(0.05, 3), (0.2, -20), (0.01, 0)])
def test_logistic_and_tanh_int8_within_one_step(op, out_scale, out_zp, fn, in_scale, in_zp):
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    tensors = [b.tensor((1, 256), "int8", scale=in_scale, zero_point=in_zp),
               b.tensor((1, 256), "int8", scale=out_scale, zero_point=out_zp)]
    got = one_op(op, tensors, [0], [1]).invoke([x])[0].ravel().astype(float)
    want = np.clip(np.round(fn((x.ravel().astype(float) - in_zp) * np.float32(in_scale)) / out_scale) + out_zp, -128, 127)
    assert np.max(np.abs(got - want)) <= 1


@pytest.mark.parametrize("in_scale", [0.05, 0.3])
def test_softmax_int8_within_one_step(in_scale):
    x = random_int8((3, 10))
    tensors = [b.tensor((3, 10), "int8", scale=in_scale, zero_point=2),
               b.tensor((3, 10), "int8", scale=1 / 256, zero_point=-128)]
    got = one_op("SOFTMAX", tensors, [0], [1], (), 9, b.T(f0=("float32", 1.0))).invoke([x])[0]
    real = (x.astype(float) - 2) * np.float32(in_scale)
    e = np.exp(real - real.max(axis=1, keepdims=True))
    want = np.clip(np.round(e / e.sum(axis=1, keepdims=True) * 256) - 128, -128, 127)
    assert np.max(np.abs(got.astype(float) - want)) <= 1


def test_concatenation_copies_raw_values():
    a, c = random_int8((1, 2, 3)), random_int8((1, 2, 2))
    tensors = [b.tensor((1, 2, 3), "int8", scale=0.1, zero_point=1),
               b.tensor((1, 2, 2), "int8", scale=0.1, zero_point=1),
               b.tensor((1, 2, 5), "int8", scale=0.1, zero_point=1)]
    got = one_op("CONCATENATION", tensors, [0, 1], [2], (), 10,
                 b.T(f0=("int32", -1))).invoke([a, c])[0]
    assert np.array_equal(got, np.concatenate([a, c], axis=2))


def test_pad_int8_uses_the_output_zero_point():
    x = random_int8((1, 2, 2, 1))
    pads = np.array([[0, 0], [1, 0], [0, 2], [0, 0]], np.int32)
    tensors = [b.tensor((1, 2, 2, 1), "int8", scale=0.1, zero_point=-7),
               b.tensor((4, 2), "int32", buffer=1, name="paddings"),
               b.tensor((1, 3, 4, 1), "int8", scale=0.1, zero_point=-7)]
    got = one_op("PAD", tensors, [0, 1], [2], [pads.tobytes()]).invoke([x])[0]
    assert np.array_equal(got, np.pad(x, pads.tolist(), constant_values=-7))


def test_quantize_and_dequantize():
    values = np.array([[-1.0, -0.25, 0.0, 0.125, 0.375, 3.0, 100.0, -100.0]], np.float32)
    tensors = [b.tensor((1, 8), "float32"), b.tensor((1, 8), "int8", scale=0.25, zero_point=-3)]
    q = one_op("QUANTIZE", tensors, [0], [1]).invoke([values])[0]
    # round(v / 0.25) half away from zero, + zero point, clamped.
    assert q.ravel().tolist() == [-7, -4, -3, -2, -1, 9, 127, -128]
    tensors = [b.tensor((1, 8), "int8", scale=0.25, zero_point=-3), b.tensor((1, 8), "float32")]
    d = one_op("DEQUANTIZE", tensors, [0], [1]).invoke([q])[0]
    assert np.allclose(d.ravel(), (q.ravel().astype(float) + 3) * 0.25)


def test_int8_requantize():
    x = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    tensors = [b.tensor((1, 256), "int8", scale=0.1, zero_point=5),
               b.tensor((1, 256), "int8", scale=0.3, zero_point=-2)]
    got = one_op("QUANTIZE", tensors, [0], [1]).invoke([x])[0].ravel().astype(float)
    want = np.clip(np.round((x.ravel().astype(int) - 5) * np.float32(0.1) / np.float32(0.3)) - 2, -128, 127)
    assert np.max(np.abs(got - want)) <= 1


# ---- STRIDED_SLICE: the indices TFLM's strided_slice_logic.h gives, worked out by hand ----------

def _strided_slice(*args, **kwargs):
    import synthetic_models as sm
    case = sm.strided_slice_case("strided_slice", *args, **kwargs)
    return case, Interpreter(parse_model(case.data, "strided_slice.tflite"))


@pytest.mark.parametrize("name, args, kwargs, pick", [
    # offset: end = end + the *clamped* start (StridedSliceEndForAxis gets the start after
    # StridedSliceStartForAxis): begin -9 on size 6 -> -3 -> clamped to 0, end 3 + 0 = 3.
    ("offset_clamped_start", ((2, 6), (2, 3), [0, -9], [2, 3], [1, 1]), {"offset": True},
     lambda x: x[:, 0:3]),
    # negative strides: begin_mask with stride < 0 starts at size - 1; end -6 + 5 = -1 is kept
    # (clamp to [-1, size - 1]), so index 0 is included.
    ("negative_strides", ((1, 5, 4), (1, 3, 3), [0, 0, -1], [1, -6, 0], [1, -2, -1]),
     {"begin_mask": 0b010}, lambda x: x[:, [4, 2, 0]][:, :, [3, 2, 1]]),
    # shrink axis 0 takes the one index begin gives; end_mask runs to the end.
    ("shrink_end_mask", ((2, 3, 4), (2, 2), [1, -2, 0], [2, 0, 0], [1, 1, 2]),
     {"shrink_axis_mask": 0b001, "end_mask": 0b110}, lambda x: x[1, 1:3, 0::2]),
])
def test_strided_slice_follows_tflm_index_rules(name, args, kwargs, pick):
    case, interpreter = _strided_slice(*args, **kwargs)
    for feed in case.feeds:
        got = interpreter.invoke(feed)[0]
        want = pick(np.asarray(feed[0]).reshape(args[0]))
        assert np.array_equal(got, want.reshape(got.shape)), name


def test_strided_slice_shrink_past_the_end_selects_nothing():
    """TFLM: a shrunk axis whose start is >= its size gets end = start (an empty loop, the output
    left unwritten), not start + 1; tinynet refuses such a model instead of reading past the end."""
    with pytest.raises(ModelError) as error:
        _strided_slice((2, 6), (2,), [0, 6], [2, 7], [1, 1], shrink_axis_mask=0b10)
    assert "selects 0 elements" in str(error.value)


def test_grouped_conv_reference_equals_its_groups_run_one_by_one():
    """ConvPerChannel with groups (input depth = groups x filter depth): the reference's grouped path
    against one ordinary convolution per group (synthetic_models composes them)."""
    import synthetic_models as sm
    cases = [sm.conv_case("conv_groups2", (1, 6, 6, 6), 4, (3, 3), groups=2),
             sm.conv_case("conv_groups3_s2_per_tensor_relu", (1, 7, 7, 6), 6, (3, 3), (2, 2), padding="VALID",
                          activation="RELU", per_channel=False, groups=3, in_zp=-128)]
    for case in cases:
        assert case.expected is not None, case.name
        interpreter = Interpreter(parse_model(case.data, case.name))
        for feed in case.feeds:
            got = interpreter.invoke(feed)[0]
            assert np.array_equal(got, np.asarray(case.expected(feed)[0]).reshape(got.shape)), case.name


@pytest.mark.parametrize("shape, perm, alias", [
    ((1, 6, 5, 1), (0, 3, 1, 2), True),       # only unit axes move: same bytes
    ((4, 1, 3), (1, 0, 2), True),
    ((1, 6, 5, 1), (0, 2, 1, 3), False),      # H and W swap
    ((2, 3), (1, 0), False),
    ((2, 3, 4), (0, 1, 2), True),             # identity
])
def test_transpose_aliases_only_when_the_bytes_do_not_move(shape, perm, alias):
    import synthetic_models as sm
    from tinynet_py import analysis
    case = sm.transpose_case("transpose", shape, perm)
    model = parse_model(case.data, "transpose.tflite")
    assert Interpreter(model).plans[0]["alias"] == alias
    # The arena estimate: one buffer when aliased, input and output side by side otherwise.
    arena, _, buffers = analysis.arena_plan(model)
    assert len(buffers) == (1 if alias else 2)
    x = np.arange(int(np.prod(shape))).reshape(shape)
    if alias:
        assert np.array_equal(np.transpose(x, perm).reshape(-1), x.reshape(-1))


@pytest.mark.parametrize("out_size, in_size, align, half, want", [
    (6, 3, True, False, [0, 0, 1, 1, 2, 2]),       # scale 2/5: round(i * 0.4)
    (2, 5, False, False, [0, 2]),                  # scale 2.5: floor(i * 2.5)
    (4, 2, False, True, [0, 0, 1, 1]),             # floor((i + 0.5) * 0.5)
    (1, 4, True, False, [0]),                      # align_corners with one output: scale 4
    (3, 3, False, False, [0, 1, 2]),
])
def test_resize_nearest_neighbor_indices(out_size, in_size, align, half, want):
    """GetNearestNeighbor's rule, worked out by hand for sizes where float32 rounding is exact."""
    from tinynet_py.ops.layout import _nearest_neighbor
    assert _nearest_neighbor(out_size, in_size, align, half) == want


def test_squeeze_and_expand_dims_check_their_shape_rule():
    """TFLM computes their output shapes; a model whose output disagrees is refused, one line."""
    import synthetic_models as sm
    for case in (sm.reshape_case("bad_squeeze", (2, 3, 1), (6,), opcode="SQUEEZE"),
                 sm.reshape_case("bad_squeeze_axis", (2, 3, 1), (2, 3), opcode="SQUEEZE", axes=[0]),
                 sm.reshape_case("bad_expand", (3, 4), (3, 1, 4), opcode="EXPAND_DIMS", axes=0)):
        with pytest.raises(ModelError) as error:
            Interpreter(parse_model(case.data, case.name))
        assert case.name in str(error.value) and "\n" not in str(error.value)


def test_shape_and_the_arithmetic_on_it_fold_to_constants():
    """SHAPE is a constant (static shapes): fold_constants removes it and every op computing on it
    alone, leaving RESHAPE with a constant [1, 24]; the outputs do not change."""
    import synthetic_models as sm
    from tinynet_py import emit, ops
    case = sm.chain_shape_slice_pack_reshape("shape_chain")
    model = parse_model(case.data, "shape_chain.tflite")
    assert [op.opcode for op in model.ops] == ["SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"]
    folded = ops.fold_constants(model)
    assert [(op.index, op.opcode) for op in folded.ops] == [(0, "RESHAPE")]
    assert folded.tensors[folded.ops[0].inputs[1]].data.tolist() == [1, 24]
    for feed in case.feeds:
        assert np.array_equal(Interpreter(model).invoke(feed)[0], Interpreter(folded).invoke(feed)[0])
    import re
    header = emit.generate_header(model, "m")
    assert re.findall(r"// op \d+: (\w+)", header) == ["RESHAPE"]


# ---- indexing ops --------------------------------------------------------------------------------

def _tflm_gather(x, coords, axis, batch_dims):
    """A transliteration of TFLM's Gather<> (micro/kernels/gather.cc)."""
    axis = axis + x.ndim if axis < 0 else axis
    batch_dims = batch_dims + coords.ndim if batch_dims < 0 else batch_dims
    batch_size = int(np.prod(x.shape[:batch_dims]))
    outer_size = int(np.prod(x.shape[batch_dims:axis]))
    inner_size = int(np.prod(x.shape[axis + 1:]))
    coord_size = int(np.prod(coords.shape[batch_dims:]))
    axis_size = x.shape[axis]
    flat, c, out = x.reshape(-1), coords.reshape(-1), []
    for b_ in range(batch_size):
        for o in range(outer_size):
            for i in range(coord_size):
                start = (((b_ * outer_size) + o) * axis_size + int(c[b_ * coord_size + i])) * inner_size
                out.extend(flat[start:start + inner_size])
    return np.array(out, x.dtype)


@pytest.mark.parametrize("in_shape, indices, axis, batch_dims", [
    ((5, 3), [4, 0, 0, 2], 0, 0),
    ((2, 3, 6), [[5, 0], [3, 3], [1, 4]], -1, 0),
    ((2, 3, 4, 2), [[3, 0, 1], [2, 2, 0]], 2, 1),
    ((3, 4, 2), [[1], [3], [0]], 1, -1),
    ((2, 3, 4), [[0, 2], [1, 1]], 1, 1),
    ((4, 3), 2, 0, 0),
])
def test_gather_matches_tflm_loops(in_shape, indices, axis, batch_dims):
    import synthetic_models as sm
    case = sm.gather_case("gather", in_shape, indices, axis, batch_dims)
    model = parse_model(case.data, "gather.tflite")
    x = random_int8(in_shape)
    got = Interpreter(model).invoke([x])[0]
    want = _tflm_gather(x, np.asarray(indices, np.int32), axis, batch_dims)
    assert np.array_equal(got.reshape(-1), want)
    assert got.shape == tuple(model.tensors[model.outputs[0]].shape)
    if batch_dims == 0:
        assert np.array_equal(got, np.take(x, indices, axis=axis))


@pytest.mark.parametrize("in_shape, indices, axis, batch_dims, dtype, message", [
    ((5, 3), [5], 0, 0, "int8", "outside axis 0"),            # TFLM's Invoke() fails
    ((5, 3), [-1], 0, 0, "int8", "outside axis 0"),
    ((2, 3), [[0], [1]], 0, 1, "int8", "batch_dims"),        # batch_dims > axis
    ((5, 3), [1], 0, 0, "int16", "supported: int8, int32, float32"),  # gather.cc refuses INT16
])
def test_gather_refuses_what_tflm_refuses(in_shape, indices, axis, batch_dims, dtype, message):
    import synthetic_models as sm
    case = sm.gather_case("bad_gather", in_shape, indices, axis, batch_dims, dtype=dtype)
    with pytest.raises(ModelError) as error:
        Interpreter(parse_model(case.data, "bad_gather.tflite"))
    assert message in str(error.value) and "\n" not in str(error.value)


def _tflm_space_to_depth(x, block):
    """A transliteration of reference_ops::SpaceToDepth (internal/reference/space_to_depth.h)."""
    n, h, w, c = x.shape
    out = np.zeros((n, h // block, w // block, c * block * block), x.dtype)
    for ib in range(n):
        for ih in range(h):
            for iw in range(w):
                for d in range(c):
                    od = d + ((ih % block) * block + iw % block) * c
                    out[ib, ih // block, iw // block, od] = x[ib, ih, iw, d]
    return out


def _tflm_depth_to_space(x, block):
    """A transliteration of reference_ops::DepthToSpace (internal/reference/depth_to_space.h)."""
    n, h, w, c = x.shape
    oc = c // (block * block)
    out = np.zeros((n, h * block, w * block, oc), x.dtype)
    for ob in range(n):
        for oh in range(h * block):
            for ow in range(w * block):
                for d in range(oc):
                    idp = d + ((oh % block) * block + ow % block) * oc
                    out[ob, oh, ow, d] = x[ob, oh // block, ow // block, idp]
    return out


@pytest.mark.parametrize("opcode, in_shape, block", [
    ("SPACE_TO_DEPTH", (2, 4, 6, 3), 2), ("SPACE_TO_DEPTH", (1, 6, 3, 2), 3),
    ("SPACE_TO_DEPTH", (1, 2, 2, 5), 1), ("DEPTH_TO_SPACE", (2, 3, 2, 8), 2),
    ("DEPTH_TO_SPACE", (1, 2, 1, 18), 3), ("DEPTH_TO_SPACE", (1, 1, 1, 16), 4),
])
def test_space_depth_match_tflm_loops(opcode, in_shape, block):
    import synthetic_models as sm
    case = sm.space_depth_case("sd", opcode, in_shape, block)
    x = random_int8(in_shape)
    got = Interpreter(parse_model(case.data, "sd.tflite")).invoke([x])[0]
    loops = _tflm_space_to_depth if opcode == "SPACE_TO_DEPTH" else _tflm_depth_to_space
    assert np.array_equal(got, loops(x, block))


@pytest.mark.parametrize("opcode, in_shape, block, dtype, message", [
    ("SPACE_TO_DEPTH", (1, 4, 6, 1), 4, "int8", "divide height 4 and width 6"),
    ("SPACE_TO_DEPTH", (1, 4, 4, 1), 0, "int8", "must be positive"),
    ("DEPTH_TO_SPACE", (1, 2, 2, 6), 2, "int8", "divide the 6 channels"),
    ("DEPTH_TO_SPACE", (1, 2, 2, 4), 2, "int16", "supported: int8, float32"),
])
def test_space_depth_refuse_what_tflm_refuses(opcode, in_shape, block, dtype, message):
    import synthetic_models as sm
    n, h, w, c = in_shape
    out = (n, 1, 1, c) if message != "supported: int8, float32" else None
    case = sm.indexing_case("bad", opcode, in_shape, out or (n, h * block, w * block, c // 4),
                            19 if opcode == "SPACE_TO_DEPTH" else 94, b.T(f0=("int32", block)),
                            dtype=dtype)
    with pytest.raises(ModelError) as error:
        Interpreter(parse_model(case.data, "bad.tflite"))
    assert message in str(error.value) and "\n" not in str(error.value)


def _tflm_mirror_pad(x, pads, offset):
    """A transliteration of MirrorPad's Eval (micro/kernels/mirror_pad.cc): each output element's
    flat index is split into per-dimension indices, each mapped by GetInputDimension()."""
    def input_dimension(padded, left, size):
        if padded < left:
            original = left + offset - 1
            return original - min(padded, original - offset)
        padded -= left
        if padded >= size:
            padded -= size
            original = size - (1 + offset)
            return original - min(padded, original)
        return padded
    out_shape = [d + p[0] + p[1] for d, p in zip(x.shape, pads)]
    out = np.zeros(out_shape, x.dtype)
    for index in itertools.product(*[range(d) for d in out_shape]):
        out[index] = x[tuple(input_dimension(i, p[0], d) for i, p, d in zip(index, pads, x.shape))]
    return out


@pytest.mark.parametrize("in_shape, pads, symmetric", [
    ((1, 4, 3, 2), [(0, 0), (3, 1), (2, 2), (0, 1)], False),
    ((2, 3, 4), [(2, 0), (3, 3), (0, 4)], True),
    ((3, 5), [(2, 2), (4, 0)], False),
    ((4,), [(4, 4)], True),
    ((3,), [(2, 5)], False),           # a tail beyond size - 1: TFLM's formula clamps it
    ((2, 2), [(0, 6), (1, 3)], True),
])
def test_mirror_pad_matches_tflm_loops(in_shape, pads, symmetric):
    import synthetic_models as sm
    case = sm.mirror_pad_case("mp", in_shape, pads, symmetric)
    x = random_int8(in_shape)
    got = Interpreter(parse_model(case.data, "mp.tflite")).invoke([x])[0]
    assert np.array_equal(got, _tflm_mirror_pad(x, pads, 0 if symmetric else 1))
    offset = 0 if symmetric else 1
    if all(p[1] <= d - offset for p, d in zip(pads, in_shape)):      # numpy's modes agree there
        assert np.array_equal(got, np.pad(x, pads, mode="symmetric" if symmetric else "reflect"))


@pytest.mark.parametrize("in_shape, pads, symmetric, dtype, message", [
    ((3, 5), [(3, 0), (0, 0)], False, "int8", "0 to 2 in front"),   # TFLM would read input[-1]
    ((3, 5), [(4, 0), (0, 0)], True, "int8", "0 to 3 in front"),
    ((3, 5), [(1, 1), (1, 1)], True, "int16", "supported: int8, float32"),
])
def test_mirror_pad_refuses_what_tflm_cannot_run(in_shape, pads, symmetric, dtype, message):
    import synthetic_models as sm
    case = sm.mirror_pad_case("bad_mp", in_shape, pads, symmetric, dtype=dtype)
    with pytest.raises(ModelError) as error:
        Interpreter(parse_model(case.data, "bad_mp.tflite"))
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("src, dst, values, want", [
    ("int32", "int8", [300, -129, 2**31 - 1, -2**31, 5], [44, 127, -1, 0, 5]),     # the low 8 bits
    ("int32", "int16", [65537, -32769, 40000], [1, 32767, -25536]),
    ("float32", "int8", [-1.9, 1.9, -0.5, 127.9, -128.9], [-1, 1, 0, 127, -128]),  # toward zero
    ("float32", "int32", [-2.5, 1e9, -7.99], [-2, 1000000000, -7]),
    ("int32", "float32", [16777217, -3, 2**31 - 1], [16777216.0, -3.0, 2147483648.0]),
    ("int8", "float32", [-128, -7, 127], [-128.0, -7.0, 127.0]),    # quantization ignored
])
def test_cast_converts_raw_values_as_static_cast_does(src, dst, values, want):
    import synthetic_models as sm
    case = sm.cast_case("cast", (len(values),), src, dst)
    x = np.array(values, DTYPES_NP[src])
    got = Interpreter(parse_model(case.data, "cast.tflite")).invoke([x])[0]
    assert got.dtype == DTYPES_NP[dst] and got.tolist() == want


DTYPES_NP = {"int8": np.int8, "int16": np.int16, "int32": np.int32, "float32": np.float32}


def _tflm_arg_min_max(x, axis, is_max):
    """A transliteration of reference_ops::ArgMinMax (internal/reference/arg_min_max.h)."""
    axis = axis + x.ndim if axis < 0 else axis
    outer = int(np.prod(x.shape[:axis]))
    inner = int(np.prod(x.shape[axis + 1:]))
    size = x.shape[axis]
    flat, out = x.reshape(-1), []
    for o in range(outer):
        for i in range(inner):
            best, best_index = flat[o * size * inner + i], 0
            for k in range(1, size):
                value = flat[(o * size + k) * inner + i]
                if (value > best) if is_max else (value < best):
                    best, best_index = value, k
            out.append(best_index)
    return np.array(out)


@pytest.mark.parametrize("opcode", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("in_shape, axis", [((2, 7, 3), 1), ((9,), 0), ((3, 2, 5), -1), ((4, 3), -2)])
def test_arg_min_max_matches_tflm_loops(opcode, in_shape, axis):
    """Ties (a narrow value range makes many) keep the first index."""
    import synthetic_models as sm
    case = sm.arg_min_max_case("am", opcode, in_shape, axis)
    x = RNG.integers(-2, 3, size=in_shape).astype(np.int8)
    got = Interpreter(parse_model(case.data, "am.tflite")).invoke([x])[0]
    assert np.array_equal(got.reshape(-1), _tflm_arg_min_max(x, axis, opcode == "ARG_MAX"))
    want = np.argmax(x, axis=axis) if opcode == "ARG_MAX" else np.argmin(x, axis=axis)
    assert np.array_equal(got, want)        # numpy also keeps the first of equal values


def test_arg_max_with_nan_keeps_what_tflm_keeps():
    """A NaN never compares greater: TFLM keeps index 0 if it is NaN and never picks a later NaN
    (numpy's argmax would pick the NaN)."""
    import synthetic_models as sm
    case = sm.arg_min_max_case("am_nan", "ARG_MAX", (2, 4), 1, dtype="float32", out_dtype="int64")
    x = np.array([[np.nan, 1.0, 5.0, 2.0], [1.0, np.nan, -3.0, 4.0]], np.float32)
    got = Interpreter(parse_model(case.data, "am_nan.tflite")).invoke([x])[0]
    assert got.dtype == np.int64 and got.tolist() == [0, 3]


@pytest.mark.parametrize("kwargs, message", [
    ({"dtype": "int16"}, "supported: int8, float32"),          # TFLM: only float32, uint8, int8
    ({"out_dtype": "int8"}, "supported: int32, int64"),
])
def test_arg_min_max_refuses_what_tflm_refuses(kwargs, message):
    import synthetic_models as sm
    args = dict(kwargs)
    out_dtype = args.pop("out_dtype", "int32")
    case = sm.indexing_case("bad_am", "ARG_MAX", (3, 4), (3,), 40, None,
                            [(np.array([1], np.int32), "int32")], out_dtype=out_dtype, **args)
    with pytest.raises(ModelError) as error:
        Interpreter(parse_model(case.data, "bad_am.tflite"))
    assert message in str(error.value) and "\n" not in str(error.value)
