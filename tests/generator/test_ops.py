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


def _tflm_resize_bilinear(x, out_h, out_w, align, half):
    """A transliteration of reference_ops::ResizeBilinearInteger (int8) and ResizeBilinear
    (float32), element by element (internal/reference/resize_bilinear.h)."""
    n, in_h, in_w, c = x.shape
    out = np.zeros((n, out_h, out_w, c), x.dtype)
    f32 = np.float32
    if x.dtype == np.int8:
        def scale10(i, o):
            return ((1 << 10) * (i - 1) + (o - 1) // 2) // (o - 1) if align and o > 1 else ((1 << 10) * i + o // 2) // o

        def c_div(a, d):
            return int(a / d) if abs(a) < 2 ** 50 else None     # C's truncating division (exact here)

        def values(v, s, size):
            scaled = v * s + s // 2 - (1 << 9) if half else v * s
            return scaled, max(c_div(scaled, 1 << 10), 0), min(c_div(scaled + (1 << 10) - 1, 1 << 10), size - 1)

        hs, ws = scale10(in_h, out_h), scale10(in_w, out_w)
        for b_ in range(n):
            for y in range(out_h):
                iy, y0, y1 = values(y, hs, in_h)
                for x_ in range(out_w):
                    ix, x0, x1 = values(x_, ws, in_w)
                    for ch in range(c):
                        total = (int(x[b_, y0, x0, ch]) * ((1 << 10) - (iy - (1 << 10) * y0)) * ((1 << 10) - (ix - (1 << 10) * x0))
                                 + int(x[b_, y1, x0, ch]) * (iy - (1 << 10) * y0) * ((1 << 10) - (ix - (1 << 10) * x0))
                                 + int(x[b_, y0, x1, ch]) * ((1 << 10) - (iy - (1 << 10) * y0)) * (ix - (1 << 10) * x0)
                                 + int(x[b_, y1, x1, ch]) * (iy - (1 << 10) * y0) * (ix - (1 << 10) * x0))
                        rnd = (1 << 19) if total > 0 else -(1 << 19)
                        out[b_, y, x_, ch] = c_div(total + rnd, 1 << 20)
        return out

    def fscale(i, o):
        return f32(i - 1) / f32(o - 1) if align and o > 1 else f32(i) / f32(o)

    def fvalues(v, s, size):
        scaled = (f32(v) + f32(0.5)) * s - f32(0.5) if half else f32(v) * s
        return scaled, max(int(np.floor(scaled)), 0), min(int(np.ceil(scaled)), size - 1)

    hs, ws = fscale(in_h, out_h), fscale(in_w, out_w)
    for b_ in range(n):
        for y in range(out_h):
            iy, y0, y1 = fvalues(y, hs, in_h)
            for x_ in range(out_w):
                ix, x0, x1 = fvalues(x_, ws, in_w)
                for ch in range(c):
                    one = f32(1)
                    out[b_, y, x_, ch] = (x[b_, y0, x0, ch] * (one - (iy - f32(y0))) * (one - (ix - f32(x0)))
                                          + x[b_, y1, x0, ch] * (iy - f32(y0)) * (one - (ix - f32(x0)))
                                          + x[b_, y0, x1, ch] * (one - (iy - f32(y0))) * (ix - f32(x0))
                                          + x[b_, y1, x1, ch] * (iy - f32(y0)) * (ix - f32(x0)) + f32(0))
    return out


@pytest.mark.parametrize("in_shape, size, align, half, dtype", [
    ((1, 3, 5, 2), (6, 10), False, False, "int8"), ((2, 5, 3, 3), (7, 8), True, False, "int8"),
    ((1, 8, 6, 2), (3, 5), False, True, "int8"), ((1, 2, 2, 1), (7, 1), False, True, "int8"),
    ((1, 1, 4, 2), (1, 9), True, False, "int8"), ((1, 4, 3, 2), (9, 7), False, True, "float32"),
    ((2, 3, 5, 1), (5, 2), True, False, "float32"), ((1, 3, 3, 2), (4, 6), False, False, "float32"),
])
def test_resize_bilinear_matches_tflm_loops(in_shape, size, align, half, dtype):
    """Both index rules (align_corners, half_pixel_centers, neither), up and down, batches; the
    int8 edges -128/127 are in every random draw of this size."""
    import synthetic_models as sm
    case = sm.resize_nearest_case("rb", in_shape, size, align, half, dtype=dtype, opcode="RESIZE_BILINEAR")
    model = parse_model(case.data, "rb.tflite")
    for feed in case.feeds[:3]:
        got = Interpreter(model).invoke(feed)[0]
        want = _tflm_resize_bilinear(feed[0], size[0], size[1], align, half)
        assert got.tobytes() == want.tobytes()


def test_resize_bilinear_rounds_half_away_from_zero():
    """Hand-worked: [-128, 127] to width 4 (scale 512/1024): x = 1 sits half way, sum -2^19,
    (-2^19 - 2^19) / 2^20 = -1; half_pixel_centers samples x = 1 at 256/1024:
    (-128 * 768 + 127 * 256) * 1024 / 2^20 = -64.25 -> -64, and x = 2 at 768/1024:
    (-128 * 256 + 127 * 768) / 1024 = 63.25 -> 63; x = 0 sits at -256/1024, both taps on
    column 0 (weights 1280 and -256)."""
    from tinynet_py.ops.layout import _bilinear_axis
    assert _bilinear_axis(4, 2, False, False, True) == ([0, 0, 1, 1], [0, 1, 1, 1], [0, 512, 0, 512])
    assert _bilinear_axis(4, 2, False, True, True) == ([0, 0, 0, 1], [0, 1, 1, 1], [-256, 256, 768, 256])
    import synthetic_models as sm
    for half, want in ((False, [-128, -1, 127, 127]), (True, [-128, -64, 63, 127])):
        case = sm.resize_nearest_case("rb", (1, 1, 2, 1), (1, 4), False, half, opcode="RESIZE_BILINEAR")
        x = np.array([-128, 127], np.int8).reshape(1, 1, 2, 1)
        assert Interpreter(parse_model(case.data, "rb.tflite")).invoke([x])[0].reshape(-1).tolist() == want


@pytest.mark.parametrize("dtype, align, half, message", [
    ("int16", False, False, "supported: int8, float32"),
    ("int8", True, True, "align_corners must be false"),
])
def test_resize_bilinear_refuses_what_tflm_refuses(dtype, align, half, message):
    import synthetic_models as sm
    case = sm.resize_nearest_case("rb", (1, 2, 2, 1), (4, 4), align, half, opcode="RESIZE_BILINEAR")
    model = parse_model(case.data, "rb.tflite")
    if dtype == "int16":
        import dataclasses
        model = dataclasses.replace(model, tensors=[dataclasses.replace(t, dtype="int16") if t.dtype == "int8" else t
                                                    for t in model.tensors])
    with pytest.raises(ModelError) as error:
        Interpreter(model)
    assert message in str(error.value) and "\n" not in str(error.value)


def _tflm_space_to_batch(x, block, pads):
    """A transliteration of reference_ops::SpaceToBatchND (internal/reference/space_to_batch_nd.h)
    with TFLM's pad value: SpaceToBatchParams::output_offset, which TFLM's Prepare() never sets
    (0 in its zeroed persistent buffer)."""
    x4 = x if x.ndim == 4 else x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
    n, h, w, c = x4.shape
    bh, bw = block[0], block[1] if x.ndim == 4 else 1
    top, left = pads[0][0], pads[1][0] if x.ndim == 4 else 0
    oh_, ow_ = (h + pads[0][0] + pads[0][1]) // bh, (w + (pads[1][0] + pads[1][1] if x.ndim == 4 else 0)) // bw
    out = np.zeros((n * bh * bw, oh_, ow_, c), x.dtype)
    for ob in range(n * bh * bw):
        ib, shift_w, shift_h = ob % n, (ob // n) % bw, (ob // n) // bw
        for oh in range(oh_):
            for ow in range(ow_):
                yy, xx = oh * bh + shift_h, ow * bw + shift_w
                if yy < top or yy >= top + h or xx < left or xx >= left + w:
                    out[ob, oh, ow, :] = 0
                else:
                    out[ob, oh, ow, :] = x4[ib, yy - top, xx - left, :]
    return out if x.ndim == 4 else out.reshape(out.shape[0], out.shape[1], c)


def _tflm_batch_to_space(x, block, crops, out_shape):
    """A transliteration of reference_ops::BatchToSpaceND (internal/reference/batch_to_space_nd.h)."""
    x4 = x if x.ndim == 4 else x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
    o4 = out_shape if len(out_shape) == 4 else (out_shape[0], out_shape[1], 1, out_shape[2])
    out = np.full(o4, 99, x.dtype)       # every element must be written
    bh, bw = block[0], block[1] if x.ndim == 4 else 1
    top, left = crops[0][0], crops[1][0] if x.ndim == 4 else 0
    for ib in range(x4.shape[0]):
        ob, offset = ib % o4[0], ib // o4[0]
        for ih in range(x4.shape[1]):
            oh = ih * bh + offset // bw - top
            if oh < 0 or oh >= o4[1]:
                continue
            for iw in range(x4.shape[2]):
                ow = iw * bw + offset % bw - left
                if ow < 0 or ow >= o4[2]:
                    continue
                out[ob, oh, ow, :] = x4[ib, ih, iw, :]
    return out.reshape(out_shape)


@pytest.mark.parametrize("opcode, in_shape, block, amounts, dtype", [
    ("SPACE_TO_BATCH_ND", (2, 3, 5, 2), [2, 3], [[1, 0], [2, 2]], "int8"),
    ("SPACE_TO_BATCH_ND", (1, 4, 4, 3), [2, 2], [[0, 0], [0, 0]], "int8"),
    ("SPACE_TO_BATCH_ND", (3, 4, 2), [3], [[1, 1]], "float32"),
    ("SPACE_TO_BATCH_ND", (1, 2, 3, 1), [1, 1], [[0, 2], [3, 0]], "int8"),
    ("BATCH_TO_SPACE_ND", (12, 2, 3, 2), [3, 2], [[1, 2], [0, 1]], "int8"),
    ("BATCH_TO_SPACE_ND", (4, 5, 3), [2], [[1, 0]], "int8"),
    ("BATCH_TO_SPACE_ND", (8, 2, 2, 3), [2, 2], [[0, 0], [1, 2]], "float32"),
    ("BATCH_TO_SPACE_ND", (2, 3, 3, 1), [1, 1], [[0, 0], [0, 0]], "int8"),
])
def test_space_batch_match_tflm_loops(opcode, in_shape, block, amounts, dtype):
    import synthetic_models as sm
    case = sm.space_batch_case("sb", opcode, in_shape, block, amounts, dtype=dtype, zp=100)
    model = parse_model(case.data, "sb.tflite")
    out_shape = model.tensors[model.outputs[0]].shape
    for feed in case.feeds[:3]:
        got = Interpreter(model).invoke(feed)[0]
        want = (_tflm_space_to_batch(feed[0], block, amounts) if opcode == "SPACE_TO_BATCH_ND"
                else _tflm_batch_to_space(feed[0], block, amounts, tuple(out_shape)))
        assert got.tobytes() == want.tobytes()


@pytest.mark.parametrize("opcode, in_shape, block, amounts, dtype, out_shape, message", [
    ("SPACE_TO_BATCH_ND", (1, 4, 4, 1), [2, 2], [[0, 0], [0, 0]], "int16", None, "supported: int8, float32"),
    ("SPACE_TO_BATCH_ND", (1, 5, 4, 1), [2, 2], [[0, 0], [0, 0]], "int8", (4, 2, 2, 1), "not a multiple of block_shape"),
    ("SPACE_TO_BATCH_ND", (1, 4, 4, 1), [2, 0], [[0, 0], [0, 0]], "int8", (4, 2, 2, 1), "positive block"),
    ("SPACE_TO_BATCH_ND", (1, 4, 4, 1), [2, 2], [[0, 0], [0, 0]], "int8", (1, 2, 2, 4), "the output is"),
    ("BATCH_TO_SPACE_ND", (6, 2, 2, 1), [2, 2], [[0, 0], [0, 0]], "int8", (1, 4, 4, 1), "not a multiple"),
    ("BATCH_TO_SPACE_ND", (4, 2, 2, 1), [2, 2], [[0, -1], [0, 0]], "int8", (1, 5, 4, 1), "non-negative"),
    ("BATCH_TO_SPACE_ND", (4, 2, 2, 1, 1), [2, 2, 1], [[0, 0]] * 3, "int8", (1, 4, 4, 1, 1), "3-D (NHC) or 4-D"),
])
def test_space_batch_refuse_what_would_be_wrong(opcode, in_shape, block, amounts, dtype, out_shape, message):
    import synthetic_models as sm
    case = sm.space_batch_case("bad", opcode, in_shape, block, amounts, dtype=dtype,
                               out_shape=out_shape or (4, 2, 2, 1))
    with pytest.raises(ModelError) as error:
        Interpreter(parse_model(case.data, "bad.tflite"))
    assert message in str(error.value) and "\n" not in str(error.value)


def _l2_case(shape, in_zp=-7, dtype="int8", out_quant=None, options=None):
    import synthetic_models as sm
    case = sm.normalization_case("l2", "L2_NORMALIZATION", shape, in_zp=in_zp, dtype=dtype,
                                 out_quant=out_quant, options=options)
    return case, Interpreter(parse_model(case.data, "l2.tflite"))


@pytest.mark.parametrize("row, zp, want", [
    ([3, 4], 0, [77, 102]),               # 3/5 * 128 = 76.8, 4/5 * 128 = 102.4
    ([-3, 4], 0, [-77, 102]),
    ([1, 1, 1, 1], 0, [64, 64, 64, 64]),  # 1/2 * 128
    ([1], 0, [127]),                      # 128 clamped
    ([-1], 0, [-128]),
    ([100, 100], 100, [0, 0]),            # all at the zero point: zeros (no division by zero)
    ([-128, 127], 127, [-128, 0]),        # -255 / 255 * 128 = -128
])
def test_l2_normalization_int8_is_x_over_norm_in_1_128(row, zp, want):
    """TFLM's integer L2 norm writes round(x / ||x|| * 128), clamped, whatever the output
    quantization says (the tflm-ops README); worked out by hand."""
    _, interpreter = _l2_case((1, len(row)), in_zp=zp, out_quant=(0.3, 5))
    got = interpreter.invoke([np.array([row], np.int8)])[0]
    assert got.reshape(-1).tolist() == want


def test_l2_normalization_float_epsilon_and_order():
    _, interpreter = _l2_case((3, 2), dtype="float32")
    x = np.array([[3, 4], [0, 0], [1e-7, 0]], np.float32)
    got = interpreter.invoke([x])[0]
    want = np.array([[np.float32(3) / np.float32(5), np.float32(4) / np.float32(5)], [0, 0],
                     [np.float32(1e-7) / np.float32(1e-6), 0]], np.float32)   # the norm at least 1e-6
    assert got.tobytes() == want.tobytes()


def test_l2_normalization_refuses_what_tflm_refuses():
    for kwargs, message in (({"dtype": "int16"}, "supported: int8, float32"),
                            ({"options": b.T(f0=("int8", 1))}, "fused activation"),
                            ({"shape": (1, 1, 1, 1, 3)}, "exceeds 4")):
        shape = kwargs.pop("shape", (2, 3))
        with pytest.raises(ModelError) as error:
            _l2_case(shape, **kwargs)
        assert message in str(error.value) and "\n" not in str(error.value)


def _log_softmax(shape, in_scale=0.1, in_zp=-7, dtype="int8", out_quant=None):
    import synthetic_models as sm
    case = sm.normalization_case("ls", "LOG_SOFTMAX", shape, in_scale=in_scale, in_zp=in_zp, dtype=dtype,
                                 out_quant=out_quant)
    return case, Interpreter(parse_model(case.data, "ls.tflite"))


@pytest.mark.parametrize("row, scale, want", [
    ([5, 5], 0.1, [116, 116]),              # log(1/2) = -0.693 = -11.09 / 16 -> 127 - 11
    ([0, 0, 0, 0], 1.0, [105, 105, 105, 105]),  # log(1/4) = -1.386 -> -22.18 -> 105
    ([9], 0.5, [127]),                       # a single value: log(1) = 0
    ([127, -128], 1.0, [127, -128]),         # a difference of -255: far below the range
    ([127, 126], 1.0, [122, 106]),           # -log(1 + e^-1) = -0.313 -> -5.01; -1.313 -> -21.01
    ([5, 4, 5], 100.0, [116, -128, 116]),    # scale 100 (multiplier capped at 2^31 - 1, shift 31):
                                             # a step of -100 is out of range; log(1/2) -> 116
])
def test_log_softmax_int8_hand_worked(row, scale, want):
    """Output = round(log_softmax * 16) + 127 (TFLM's fixed 16/256, 127), worked out by hand; the
    fixed-point path lands on the nearest step for these (none within 0.02 of a half step)."""
    _, interpreter = _log_softmax((1, len(row)), in_scale=scale)
    assert interpreter.invoke([np.array([row], np.int8)])[0].reshape(-1).tolist() == want


def test_log_softmax_int8_within_one_step_of_the_real_function():
    case, interpreter = _log_softmax((6, 13), in_scale=0.07, in_zp=20)
    for feed in case.feeds:
        x = (feed[0].astype(np.float64) - 20) * np.float64(np.float32(0.07))
        real = x - x.max(axis=-1, keepdims=True)
        real = real - np.log(np.exp(real).sum(axis=-1, keepdims=True))
        want = np.clip(np.round(real * 16) + 127, -128, 127)
        got = interpreter.invoke(feed)[0].astype(np.int64)
        assert np.abs(got - want).max() <= 1


def test_log_softmax_float_follows_tflm_order():
    _, interpreter = _log_softmax((2, 3), dtype="float32")
    nan = np.float32("nan")
    x = np.array([[1.0, 2.0, 3.0], [nan, 0.0, 0.0]], np.float32)
    got = interpreter.invoke([x])[0]
    f = np.float32
    s = f(f(np.exp(f(-2))) + f(np.exp(f(-1)))) + f(1)
    assert abs(float(got[0, 2]) - float(-np.log(s))) < 1e-6      # max ignores nothing here
    assert np.isnan(got[1]).all()                                # NaN - max makes the sum NaN


def test_log_softmax_refuses_what_tflm_refuses():
    for kwargs, message in (({"dtype": "int16"}, "supported: int8, float32"),
                            ({"out_quant": (1.0 / 256, -128)}, "scale 16/256 and zero point 127")):
        with pytest.raises(ModelError) as error:
            _log_softmax((2, 5), **kwargs)
        assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("opcode, per_index", [("RESIZE_NEAREST_NEIGHBOR", 4), ("RESIZE_BILINEAR", 12)])
def test_resize_tables_count_in_the_flash_estimate(opcode, per_index):
    """The index (and fraction) tables the generator writes for a 7 x 11 output: 18 entries of
    4 bytes (nearest neighbor) or 12 bytes (bilinear: lower, upper, fraction), as the C++ op's
    weight_bytes (tests/cpp/test_ops_spatial.cpp checks that side)."""
    import synthetic_models as sm
    from tinynet_py import analysis
    case = sm.resize_nearest_case("rt", (1, 3, 5, 2), (7, 11), opcode=opcode)
    assert analysis.requant_table_bytes(parse_model(case.data, "rt.tflite")) == per_index * 18


def test_l2_normalization_int8_without_quantization_reads_zero_point_0():
    """TFLM reads only the input zero point (0 when the tensor has no quantization parameters)."""
    import synthetic_models as sm
    g = sm.Graph()
    x, y = g.tensor((2, 3), "int8"), g.tensor((2, 3), "int8", 1 / 128, 0)
    g.op("L2_NORMALIZATION", [x], [y], 12, b.T())
    got = Interpreter(parse_model(g.build([x], [y]), "l2.tflite")).invoke([np.array([[3, 4, 0], [0, 0, 0]], np.int8)])[0]
    assert got.tolist() == [[77, 102, 0], [0, 0, 0]]

# ---- TRANSPOSE_CONV ------------------------------------------------------------------------------

def _tflm_transpose_conv(x, w, bias, stride, pad, out_shape, dtype, in_zp=0, out_zp=0,
                         scales=None, act=None):
    """A transliteration of reference_integer_ops::TransposeConv (int8; 16x8 without zero points)
    and reference_ops::TransposeConv (float32, scalar float32 arithmetic): the scatter into a
    zeroed buffer the size of the output, then bias, requantization and clamp."""
    n, ih, iw, ic = x.shape
    oc, kh, kw, _ = w.shape
    _, oh, ow, _ = out_shape
    is_float = dtype == "float32"
    scratch = np.zeros(out_shape, np.float32 if is_float else object)
    for b_ in range(n):
        for iy in range(ih):
            for ix in range(iw):
                for c in range(ic):
                    for ky in range(kh):
                        for kx in range(kw):
                            for o in range(oc):
                                oy, ox = iy * stride[0] - pad[0] + ky, ix * stride[1] - pad[1] + kx
                                if 0 <= oy < oh and 0 <= ox < ow:
                                    if is_float:
                                        scratch[b_, oy, ox, o] = np.float32(
                                            scratch[b_, oy, ox, o] + np.float32(x[b_, iy, ix, c] * w[o, ky, kx, c]))
                                    else:
                                        scratch[b_, oy, ox, o] += (int(x[b_, iy, ix, c]) - in_zp) * int(w[o, ky, kx, c])
    out = np.zeros(out_shape, np.float32 if is_float else dtype)
    for index in itertools.product(*[range(d) for d in out_shape]):
        o = index[3]
        if is_float:
            value = np.float32(scratch[index] + (bias[o] if bias is not None else np.float32(0)))
            out[index] = min(max(value, act[0]), act[1])
            continue
        acc = scratch[index] + (int(bias[o]) if bias is not None else 0)
        multiplier, shift = fp.quantize_multiplier(scales[o])
        if dtype == "int8":
            scaled = int(fp.multiply_by_quantized_multiplier(np.int64(acc), multiplier, shift)) + out_zp
        else:
            scaled = int(fp.multiply_by_quantized_multiplier_int64(np.int64(acc), multiplier, shift))
        out[index] = min(max(scaled, act[0]), act[1])
    return out


@pytest.mark.parametrize("dtype, in_shape, out_hw, oc, kernel, stride, padding, activation", [
    ("int8", (1, 3, 4, 3), (6, 8), 4, (3, 3), (2, 2), "SAME", "NONE"),
    ("int8", (2, 3, 2, 2), (7, 5), 3, (2, 2), (3, 3), "VALID", "RELU"),
    ("int8", (1, 2, 3, 2), (3, 4), 2, (4, 3), (1, 1), "SAME", "RELU6"),   # output smaller than full
    ("int16", (1, 3, 3, 5), (6, 3), 2, (4, 3), (2, 1), "SAME", "NONE"),
    ("float32", (1, 4, 3, 6), (8, 6), 5, (3, 3), (2, 2), "SAME", "RELU"),
    ("float32", (2, 3, 3, 2), (4, 10), 3, (2, 4), (1, 2), "VALID", "NONE"),
])
def test_transpose_conv_matches_tflm_loops(dtype, in_shape, out_hw, oc, kernel, stride, padding, activation):
    import synthetic_models as sm
    case = sm.transpose_conv_case("tc", in_shape, out_hw, oc, kernel, stride, padding, activation,
                                  in_zp=-9, out_zp=4, dtype=dtype)
    model = parse_model(case.data, "tc.tflite")
    tensors = model.tensors
    shape_t, w_t, x_t, bias_t = (tensors[i] for i in model.ops[0].inputs)
    out_t = tensors[model.outputs[0]]
    # TFLM's padding for transpose conv: ComputePaddingHeightWidth with the output as the image.
    pad = []
    for axis in (0, 1):
        out_size = -(-out_hw[axis] // stride[axis]) if padding == "SAME" else \
            (out_hw[axis] + stride[axis] - kernel[axis]) // stride[axis]
        pad.append(max((out_size - 1) * stride[axis] + kernel[axis] - out_hw[axis], 0) // 2)
    for feed in case.feeds[:1] + case.feeds[-2:]:
        got = Interpreter(model).invoke(feed)[0]
        if dtype == "float32":
            low, high = {"NONE": (-np.inf, np.inf), "RELU": (0.0, np.inf)}[activation]
            want = _tflm_transpose_conv(feed[0], w_t.data, bias_t.data, stride, pad, out_t.shape, dtype,
                                        act=(np.float32(low), np.float32(high)))
            assert got.tobytes() == want.tobytes()
            continue
        in_scale, out_scale = float(x_t.scale_scalar), float(out_t.scale_scalar)
        real = [np.float64(in_scale) * np.float64(np.float32(s)) / np.float64(out_scale)
                for s in np.broadcast_to(w_t.scale, (oc,))]
        zp_in = x_t.zero_point_scalar if dtype == "int8" else 0
        zp_out = out_t.zero_point_scalar if dtype == "int8" else 0
        info = np.iinfo(dtype)
        low, high = info.min, info.max
        if activation in ("RELU", "RELU6"):
            low = max(low, zp_out)
        if activation == "RELU6":
            high = min(high, zp_out + int(round(6.0 / out_scale)))
        want = _tflm_transpose_conv(feed[0], w_t.data, bias_t.data, stride, pad, out_t.shape, dtype,
                                    zp_in, zp_out, real, (low, high))
        assert np.array_equal(got, want)


@pytest.mark.parametrize("in_shape, out_hw, oc, kernel, stride, padding, macs", [
    ((1, 2, 2, 1), (4, 4), 1, (2, 2), (2, 2), "VALID", 16),    # 2 inputs x 2 taps land per axis
    ((1, 3, 3, 1), (3, 3), 2, (3, 3), (1, 1), "SAME", 98),     # 2 + 3 + 2 = 7 per axis, x 2 channels
    ((2, 3, 2, 2), (7, 5), 3, (2, 2), (3, 3), "VALID", 240),   # rows 0 1 3 4 6 (7 is cut), cols 0 1 3 4: 5 x 4 x 2 x 3 x batch 2
])
def test_transpose_conv_macs_count_the_taps_landing_inside_the_output(in_shape, out_hw, oc, kernel, stride,
                                                                    padding, macs):
    """inspect's MACs are the multiply-adds TFLM performs (the taps it drops are not counted), the
    same rule as the C++ op's `macs` (tests/cpp/test_ops_transpose_conv.cpp checks 16 and 98)."""
    import synthetic_models as sm
    from tinynet_py import ops
    case = sm.transpose_conv_case("tcm", in_shape, out_hw, oc, kernel, stride, padding)
    model = parse_model(case.data, "tcm.tflite")
    assert ops.REGISTRY["TRANSPOSE_CONV"].macs(model, model.ops[0]) == macs


# ---- BATCH_MATMUL --------------------------------------------------------------------------------

def _tflm_batch_matmul(lhs, rhs, adj_x, adj_y, dtype, zl=0, zr=0, zo=0, multiplier=None, shift=None):
    """A transliteration of micro/kernels/batch_matmul.cc's Eval and reference_ops::BatchMatMul:
    shapes extended to rank 5; TFLM passes the (transposed) RHS as the kernel's "lhs" and the LHS
    as its "rhs", so both are read as [batch][row or col][depth]; out[lhs_rows * j + i]."""
    le = (1,) * (5 - lhs.ndim) + lhs.shape
    re_ = (1,) * (5 - rhs.ndim) + rhs.shape
    a = lhs.reshape(le)
    b = rhs.reshape(re_)
    a_rows_depth = np.swapaxes(a, 3, 4) if adj_x else a          # [.., rows, depth]
    b_cols_depth = b if adj_y else np.swapaxes(b, 3, 4)          # [.., cols, depth]
    rows, depth = a_rows_depth.shape[3:]
    cols = b_cols_depth.shape[3]
    batch = [max(x, y) for x, y in zip(le[:3], re_[:3])]
    out = np.zeros(batch + [rows, cols], np.float32 if dtype == "float32" else dtype)
    info = None if dtype == "float32" else np.iinfo(dtype)
    for b0, b1, b2 in itertools.product(*[range(n) for n in batch]):
        ia = tuple(0 if le[d] == 1 else v for d, v in enumerate((b0, b1, b2)))
        ib = tuple(0 if re_[d] == 1 else v for d, v in enumerate((b0, b1, b2)))
        for j in range(cols):
            for i in range(rows):
                if dtype == "float32":
                    total = np.float32(0)
                    for k in range(depth):
                        total = np.float32(total + np.float32(b_cols_depth[ib + (j, k)] * a_rows_depth[ia + (i, k)]))
                    out[b0, b1, b2, i, j] = total
                    continue
                total = 0
                for k in range(depth):
                    total += (int(b_cols_depth[ib + (j, k)]) - zr) * (int(a_rows_depth[ia + (i, k)]) - zl)
                if dtype == "int8":
                    scaled = int(fp.multiply_by_quantized_multiplier(np.int64(total), multiplier, shift))
                else:
                    scaled = int(fp.multiply_by_quantized_multiplier_int64(np.int64(total), multiplier, shift))
                out[b0, b1, b2, i, j] = min(max(scaled + zo, info.min), info.max)
    rank = max(lhs.ndim, rhs.ndim)
    return out.reshape(out.shape[5 - rank:])


@pytest.mark.parametrize("dtype, lhs_shape, rhs_shape, adj_x, adj_y", [
    ("int8", (2, 1, 3, 4, 6), (4, 1, 5, 6), False, True),
    ("int8", (3, 5), (2, 3, 4), True, False),
    ("int8", (2, 3, 4, 7), (7, 2), False, False),
    ("int16", (3, 6, 2), (3, 4, 6), True, True),
    ("float32", (2, 3, 33), (1, 33, 4), False, False),
    ("float32", (1, 2, 9, 3), (2, 1, 5, 9), True, True),
])
def test_batch_matmul_matches_tflm_loops(dtype, lhs_shape, rhs_shape, adj_x, adj_y):
    import synthetic_models as sm
    case = sm.batch_matmul_case("bm", lhs_shape, rhs_shape, adj_x, adj_y, dtype=dtype)
    model = parse_model(case.data, "bm.tflite")
    lhs_t, rhs_t = (model.tensors[i] for i in model.ops[0].inputs)
    out_t = model.tensors[model.outputs[0]]
    for feed in case.feeds[:1] + case.feeds[-2:]:
        got = Interpreter(model).invoke(feed)[0]
        if dtype == "float32":
            want = _tflm_batch_matmul(feed[0], feed[1], adj_x, adj_y, dtype)
            assert got.tobytes() == want.tobytes()
            continue
        # GetQuantizedConvolutionMultipler: the float product of the scales, widened, / output scale.
        real = np.float64(np.float32(np.float32(lhs_t.scale_scalar) * np.float32(rhs_t.scale_scalar))) \
            / np.float64(out_t.scale_scalar)
        multiplier, shift = fp.quantize_multiplier(real)
        want = _tflm_batch_matmul(feed[0], feed[1], adj_x, adj_y, dtype, lhs_t.zero_point_scalar,
                                  rhs_t.zero_point_scalar, out_t.zero_point_scalar, multiplier, shift)
        assert got.shape == want.shape and np.array_equal(got, want)


@pytest.mark.parametrize("lhs_shape, rhs_shape, dtype, zero_points, message", [
    ((2, 3, 4), (3, 5, 6), "int8", (0, 0, 0), "do not broadcast"),
    ((2, 3, 4), (2, 5, 6), "int8", (0, 0, 0), "inner dimensions 4 and 5"),
    ((1, 1, 1, 1, 2, 3), (3, 2), "int8", (0, 0, 0), "ranks 2 to 5"),
    ((3, 4), (4, 2), "int16", (1, 0, 0), "zero points 0"),
])
def test_batch_matmul_refuses_what_tflm_refuses(lhs_shape, rhs_shape, dtype, zero_points, message):
    import synthetic_models as sm
    g = sm.Graph()
    lhs = g.tensor(lhs_shape, dtype, 0.02, zero_points[0])
    rhs = g.tensor(rhs_shape, dtype, 0.03, zero_points[1])
    out = g.tensor((3, 2), dtype, 0.1, zero_points[2])
    g.op("BATCH_MATMUL", [lhs, rhs], [out], sm.OPT["BATCH_MATMUL"], b.T(f0=("bool", False), f1=("bool", False)))
    with pytest.raises(ModelError) as error:
        Interpreter(parse_model(g.build([lhs, rhs], [out]), "bad.tflite"))
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("in_zp, bias_dtype, message", [
    (3, "int64", "needs input zero point 0"),       # TFLM's 16x8 kernel would ignore it
    (0, "int32", "needs an int64 bias"),            # TFLM would read the int32 bias as int64
])
def test_transpose_conv_16x8_refuses_what_tflm_would_get_wrong(in_zp, bias_dtype, message):
    import synthetic_models as sm
    g = sm.Graph()
    shape_t = g.const(np.array([1, 4, 4, 2], np.int32), "int32")
    w = g.const(np.ones((2, 3, 3, 3), np.int8), "int8", [0.01, 0.02], [0, 0])
    x = g.tensor((1, 2, 2, 3), "int16", 0.001, in_zp)
    bias = g.const(np.zeros(2, bias_dtype), bias_dtype, [0.00001, 0.00002])
    y = g.tensor((1, 4, 4, 2), "int16", 0.002, 0)
    g.op("TRANSPOSE_CONV", [shape_t, w, x, bias], [y], sm.OPT["TRANSPOSE_CONV"],
         b.T(f0=("int8", 0), f1=("int32", 2), f2=("int32", 2)))
    with pytest.raises(ModelError) as error:
        Interpreter(parse_model(g.build([x], [y]), "bad.tflite"))
    assert message in str(error.value) and "\n" not in str(error.value)


# ---- SVDF (state across invokes) ---------------------------------------------------------------

def _tflm_svdf_integer(x, wf, wt, bias, state, rank, in_zp, state_zp, out_zp, m1, m2, state_range):
    """EvalIntegerSvdfReference (micro/kernels/svdf_common.cc) loop by loop, on a flat state list
    it updates in place."""
    n_batch, n_input = x.shape
    n_filter, n_memory = wt.shape
    n_unit = n_filter // rank
    total_state = n_batch * n_filter * n_memory
    for i in range(total_state - 1):
        state[i] = state[i + 1]
    for b_ in range(n_batch):
        for r in range(n_filter):
            dot = sum(int(wf[r, c]) * (int(x[b_, c]) - in_zp) for c in range(n_input))
            dot = int(fp.multiply_by_quantized_multiplier(dot, *m1)) + state_zp
            state[(b_ * n_filter + r) * n_memory + n_memory - 1] = min(max(dot, state_range[0]), state_range[1])
    wrap = lambda v: (v + 2**31) % 2**32 - 2**31
    out = np.zeros((n_batch, n_unit), np.int8)
    for b_ in range(n_batch):
        scratch = []
        for i in range(n_filter):
            acc = 0
            for j in range(n_memory):
                acc = wrap(acc + int(wt[i, j]) * (state[(b_ * n_filter + i) * n_memory + j] - state_zp))
            scratch.append(acc)
        for i in range(n_unit):
            acc = int(bias[i])
            for j in range(rank):
                acc = wrap(acc + scratch[i * rank + j])
            v = int(fp.multiply_by_quantized_multiplier(acc, *m2)) + out_zp
            out[b_, i] = min(max(v, -128), 127)
    return out


@pytest.mark.parametrize("batch, input_size, units, rank, memory, time_dtype", [
    (1, 8, 3, 1, 4, "int16"),
    (2, 5, 2, 3, 3, "int16"),
    (1, 6, 4, 2, 1, "int8"),
    (3, 4, 2, 2, 5, "int8"),
])
def test_svdf_matches_tflm_loops_over_several_invokes(batch, input_size, units, rank, memory, time_dtype):
    import synthetic_models as sm
    case = sm.svdf_case(f"svdf_{batch}_{input_size}_{units}_{rank}_{memory}_{time_dtype}", batch, input_size,
                        units, rank, memory, time_dtype=time_dtype, in_zp=-7, out_zp=4)
    model = parse_model(case.data, "svdf.tflite")
    x_t, wf_t, wt_t, bias_t, state_t = (model.tensors[i] for i in model.ops[0].inputs)
    out_t = model.tensors[model.outputs[0]]
    f32 = np.float32
    m1 = fp.quantize_multiplier(float(f32(f32(x_t.scale_scalar * wf_t.scale_scalar) / state_t.scale_scalar)))
    m2 = fp.quantize_multiplier(float(f32(f32(state_t.scale_scalar * wt_t.scale_scalar) / out_t.scale_scalar)))
    rng = np.dtype(time_dtype)
    state_range = (np.iinfo(rng).min, np.iinfo(rng).max)
    interpreter = Interpreter(model)
    state = [0] * state_t.num_elements
    for feed in case.feeds:                       # one stream: state carried over every feed
        got = interpreter.invoke(feed)[0]
        want = _tflm_svdf_integer(feed[0].reshape(batch, input_size), wf_t.data, wt_t.data, bias_t.data, state,
                                  rank, x_t.zero_point_scalar, state_t.zero_point_scalar, out_t.zero_point_scalar,
                                  m1, m2, state_range)
        assert np.array_equal(got.reshape(want.shape), want)
    assert any(state), "the state stayed zero: the test would not see the time weights"


def _svdf_graph(state_dtype="int16", time_dtype="int16", bias=True, variable=True, bias_scale=None, rank=1):
    import synthetic_models as sm
    g = sm.Graph()
    x = g.q8((1, 4), 0.05, 0)
    wf = g.const(np.ones((2, 4), np.int8), "int8", 0.01, 0)
    wt = g.const(np.ones((2, 3), time_dtype), time_dtype, 0.001, 0)
    b_ = g.const(np.zeros(2 // rank, np.int32), "int32", 0.125 * 0.001 if bias_scale is None else bias_scale) \
        if bias else -1
    state = g.tensor((1, 6), state_dtype, 0.125, 0, variable=variable)
    y = g.q8((1, 2 // rank), 0.1, 0)
    g.op("SVDF", [x, wf, wt, b_, state], [y], 6, b.T(f0=("int32", rank), f1=("int8", 0)))
    return g.build([x], [y])


@pytest.mark.parametrize("kwargs, message", [
    (dict(bias=False), "needs its bias tensor"),                       # TFLM reads the bias scale
    (dict(state_dtype="int8"), "differs from weights_time dtype"),     # TFLM reads both as one type
    (dict(variable=False), "must be a variable tensor"),
    (dict(bias_scale=0.5), "bias scale 0.5 is not activation state scale x weights_time scale"),
    (dict(rank=3), "not a multiple of the rank 3"),
])
def test_svdf_refuses_what_tflm_refuses(kwargs, message):
    with pytest.raises(ModelError) as error:
        Interpreter(parse_model(_svdf_graph(**kwargs), "bad.tflite"))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_svdf_state_resets_and_int8_state_starts_at_its_zero_point():
    import synthetic_models as sm
    g = sm.Graph()
    x = g.q8((1, 2), 0.5, 0)
    wf = g.const(np.array([[1, 1]], np.int8), "int8", 0.25, 0)
    wt = g.const(np.array([[1, 1]], np.int8), "int8", 0.5, 0)
    b_ = g.const(np.zeros(1, np.int32), "int32", 0.0625, 0)
    state = g.tensor((1, 2), "int8", 0.125, -20, variable=True)
    y = g.q8((1, 1), 0.0625, 0)
    g.op("SVDF", [x, wf, wt, b_, state], [y], 6, b.T(f0=("int32", 1), f1=("int8", 0)))
    interpreter = Interpreter(parse_model(g.build([x], [y]), "svdf.tflite"))
    assert interpreter.state[4].tolist() == [[-20, -20]]
    # m1 = m2 = 1: the newest frame is 3 + 4 = 7 (+ zero point), the older one 0: y = 7, then 14.
    assert interpreter.invoke([np.array([[3, 4]], np.int8)])[0].tolist() == [[7]]
    assert interpreter.state[4].tolist() == [[-20, -13]]
    assert interpreter.invoke([np.array([[3, 4]], np.int8)])[0].tolist() == [[14]]
    interpreter.reset()
    assert interpreter.invoke([np.array([[3, 4]], np.int8)])[0].tolist() == [[7]]
