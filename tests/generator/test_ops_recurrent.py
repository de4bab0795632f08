"""UNIDIRECTIONAL_SEQUENCE_LSTM in the numpy reference: against a scalar loop transliteration of
TFLM's integer LSTM (lstm_eval.h: CalculateLstmGate, UpdateLstmCell, UpdateLstmHidden, EvalLstm's
batch/time order), and the variants TFLM's kernel refuses, refused with one line."""

import dataclasses

import numpy as np
import pytest

import synthetic_models as sm
from tinynet_py import fixedpoint as fp
from tinynet_py.errors import ModelError
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import parse_model


def _srdhm(a, b):
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    product = a * b
    nudge = (1 << 30) if product >= 0 else 1 - (1 << 30)
    n = product + nudge
    return n // (1 << 31) if n >= 0 else -((-n) // (1 << 31))    # truncation toward zero, as C++


def _rdbp(x, exponent):
    mask = (1 << exponent) - 1
    remainder, threshold = x & mask, (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def _mbqm(x, multiplier, shift):
    return _rdbp(_srdhm(x * (1 << max(shift, 0)), multiplier), max(-shift, 0))


def _sat(x, lo=-32768, hi=32767):
    return max(lo, min(hi, x))


def _logistic16(x, table):        # reference_integer_ops::Logistic(0, 0, ...): multiplier 3
    v = x * 3
    u = abs(v)
    if u >> 9 >= 255:
        r = 0x7FFF << 10
    else:
        r = (int(table[u >> 9]) << 9) + (u & 511) * (int(table[(u >> 9) + 1]) - int(table[u >> 9]))
    r = r + 512 if v >= 0 else (1 << 25) - r + 511
    return r >> 10


def _tanh16(x, multiplier, shift, table):     # reference_integer_ops::Tanh
    if multiplier == 0:
        multiplier, shift = 3 << shift, 0
    v = (x * multiplier + ((1 << (shift - 1)) if shift > 0 else 0)) >> shift
    u = abs(v)
    if u >> 8 >= 255:
        r = 0xFFFF << 8
    else:
        r = (int(table[u >> 8]) << 8) + (u & 255) * (int(table[(u >> 8) + 1]) - int(table[u >> 8]))
    r = r - (1 << 23) + 128 if v >= 0 else -r + (1 << 23) + 127
    return r >> 8


def loop_lstm(plan, x, state):
    """EvalLstm<int8_t, int8_t, int16_t, int32_t>, one scalar at a time; state[b] = (h, c) of batch
    row b, updated (the variable tensors TFLM keeps between invokes)."""
    table = fp.sigmoid_table_uint16()
    batches, steps, units, depth = plan["batches"], plan["steps"], plan["units"], plan["depth"]
    wi, wr, bias = plan["input_weights"], plan["recurrent_weights"], plan["bias"]
    out = np.zeros((steps, batches, units) if plan["time_major"] else (batches, steps, units), np.int64)
    for b in range(batches):
        h, c = state[b][0], list(state[b][1])
        for t in range(steps):
            row = x[t, b] if plan["time_major"] else x[b, t]
            gates = []
            for g in range(4):
                values = []
                for u in range(units):
                    acc = int(bias[g][u]) + sum(int(wi[g][u][k]) * (int(row[k]) - plan["input_zero_point"])
                                                for k in range(depth))
                    a = _sat(_mbqm(acc, *plan["input_multipliers"][g]))
                    acc = sum(int(wr[g][u][k]) * (h[k] - plan["hidden_zero_point"]) for k in range(units))
                    r = _sat(_mbqm(acc, *plan["recurrent_multipliers"][g]))
                    z = _sat(a + r)
                    values.append(_tanh16(z, 0, 0, table) if g == 2 else _logistic16(z, table))
                gates.append(values)
            i, f, gg, o = gates
            new_h = []
            for u in range(units):
                cell = _sat(_sat(_mbqm(f[u] * c[u], *plan["forget_times_cell"]))
                            + _sat(_mbqm(i[u] * gg[u], *plan["input_times_cell_gate"])))
                if plan["cell_clip"] > 0:
                    cell = _sat(cell, -plan["quantized_cell_clip"], plan["quantized_cell_clip"])
                c[u] = cell
                tanh_c = _tanh16(cell, *plan["cell_tanh"], table)
                new_h.append(_sat(plan["hidden_zero_point"] + _mbqm(tanh_c * o[u], *plan["output_times_tanh"]),
                                  -128, 127))
            h = new_h
            if plan["time_major"]:
                out[t, b] = h
            else:
                out[b, t] = h
        state[b] = (h, c)
    return out


@pytest.mark.parametrize("args, kwargs", [
    ((2, 4, 5, 3), {}),
    ((3, 3, 4, 5), dict(time_major=True, cell_scale_log2=-11, cell_clip=1.5, in_zp=-128, hidden_zp=20)),
    ((1, 5, 3, 2), dict(cell_scale_log2=-15, in_zp=127, hidden_zp=0)),
    ((1, 3, 2, 3), dict(cell_scale_log2=-9, cell_clip=0.3)),
], ids=["batch_major", "time_major_clip_cell2^-11", "cell2^-15", "cell2^-9_clip"])
def test_reference_matches_a_loop_transliteration_of_tflm(args, kwargs):
    case = sm.lstm_case(f"lstm_loop_{args}_{sorted(kwargs.items())}", *args, **kwargs)
    interpreter = Interpreter(parse_model(case.data, "lstm.tflite"))
    plan = interpreter.plans[0]
    fresh = [([plan["hidden_zero_point"]] * plan["units"], [0] * plan["units"]) for _ in range(plan["batches"])]
    state = [(h, list(c)) for h, c in fresh]
    for feed in case.feeds:          # one stream: the state carries from feed to feed
        got = interpreter.invoke(list(feed))[0]
        want = loop_lstm(plan, feed[0].astype(np.int64), state)
        np.testing.assert_array_equal(got.astype(np.int64), want)
    # One more invoke continues the stream; after reset() the same input starts a fresh sequence.
    last = case.feeds[-1][0].astype(np.int64)
    carried = interpreter.invoke([last])[0]
    np.testing.assert_array_equal(carried.astype(np.int64), loop_lstm(plan, last, state))
    interpreter.reset()
    again = interpreter.invoke([last])[0]
    np.testing.assert_array_equal(again.astype(np.int64), loop_lstm(plan, last, [(h, list(c)) for h, c in fresh]))


def _with_input(case, position, tensor):
    """The case's model with op input `position` set to tensor index `tensor`."""
    model = parse_model(case.data, "lstm.tflite")
    op = model.ops[0]
    inputs = list(op.inputs)
    inputs[position] = tensor
    return dataclasses.replace(model, ops=[dataclasses.replace(op, inputs=inputs)])


@pytest.mark.parametrize("position, words", [
    (9, "peephole"), (10, "peephole"), (16, "projection"), (20, "layer normalization"),
])
def test_variants_tflm_refuses_are_refused(position, words):
    case = sm.lstm_case("lstm_refused", 1, 2, 3, 3)
    model = _with_input(case, position, 2)         # any constant tensor of the model
    with pytest.raises(ModelError) as e:
        Interpreter(model)
    message = str(e.value)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in message and words in message and "TFLM" in message


def test_cifg_and_other_activations_are_refused():
    case = sm.lstm_case("lstm_refused", 1, 2, 3, 3)
    with pytest.raises(ModelError, match="input gate"):
        Interpreter(_with_input(case, 1, -1))
    model = parse_model(case.data, "lstm.tflite")
    op = dataclasses.replace(model.ops[0], options={**model.ops[0].options, "fused_activation_function": "RELU"})
    with pytest.raises(ModelError, match="cell gate activation RELU"):
        Interpreter(dataclasses.replace(model, ops=[op]))


# ---- --eval and --quantize calibration on a stateful model: every sample from the reset state ----

@pytest.mark.parametrize("make", [
    lambda: sm.svdf_case("svdf_eval_order", 1, 5, 3, 2, 4, dtype="float32"),
    lambda: sm.svdf_case("svdf_eval_order_int8", 1, 5, 3, 2, 4),
    lambda: sm.lstm_case("lstm_eval_order", 1, 3, 4, 3, dtype="float32"),
], ids=["svdf_float", "svdf_int8", "lstm_float"])
def test_eval_and_calibration_start_every_sample_from_the_reset_state(make):
    from tinynet_py.data import dequantize_output
    from tinynet_py.evaluate import predict
    from tinynet_py.quantize import calibrate
    case = make()
    model = parse_model(case.data, "stateful.tflite")
    x = np.stack([feed[0].reshape(-1) for feed in case.feeds])
    assert len(x) >= 3
    order = np.arange(len(x))[::-1]
    forward, backward = predict(model, x), predict(model, x[order])
    np.testing.assert_array_equal(forward[order], backward)
    # Each row is what a fresh interpreter gives on that sample alone (one invoke from the reset
    # state); carried state would make the second sample onwards differ (checked below).
    alone = Interpreter(model).invoke([x[1]])[0].reshape(-1)
    np.testing.assert_array_equal(forward[1], dequantize_output(alone, model.tensors[model.outputs[0]]))
    carried = Interpreter(model)
    assert any(not np.array_equal(carried.invoke([sample])[0], Interpreter(model).invoke([sample])[0])
               for sample in x)
    if model.tensors[model.inputs[0]].dtype == "float32":
        low, high = calibrate(model, x)
        low_r, high_r = calibrate(model, x[order])
        assert low == low_r and high == high_r
