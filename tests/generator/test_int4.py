"""4-bit weights in the generator: TFLite INT4 read and written (two per byte, low nibble first, as
TFLM's UnpackDenseInt4IntoInt8 reads them), refused where TFLM does not read them, and made by
--weight-bits 4 (per channel, symmetric, [-7, 7]) from a float model or an int8 model's weights.
The C++ side (same bytes as the int8 twin) is in tests/conformance/test_cpp_vs_reference.py."""

import warnings

import numpy as np
import pytest

from conftest import run_tinynet, shared_path
from tinynet_py.errors import ModelError
from tinynet_py.ir import pack_int4, unpack_int4
from tinynet_py.quantize import int4_weights, quantize_model
from tinynet_py.tflite import load_model, parse_model
from tinynet_py.tflite_writer import write_model


def test_nibbles_low_first_twos_complement():
    # Written by hand: 0x87 holds 7 (low) then -8 (high); 0xF0 holds 0 then -1.
    assert unpack_int4(bytes([0x87, 0xF0, 0x7F]), 5).tolist() == [7, -8, 0, -1, -1]
    assert pack_int4(np.array([7, -8, 0, -1, -1], np.int8)).tolist() == [0x87, 0xF0, 0x0F]
    with pytest.raises(ValueError):
        pack_int4(np.array([8]))


@pytest.fixture(scope="module")
def kws():
    return load_model(str(shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")))


def test_int4_weights_of_an_int8_model(kws):
    w4 = int4_weights(kws)
    changed = [op for op in w4.ops if len(op.inputs) > 1 and w4.tensors[op.inputs[1]].int4]
    # TFLM reads INT4 filters in all three (DEPTHWISE_CONV_2D: per channel along axis 3).
    assert {op.opcode for op in changed} == {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
    assert len(changed) == len([op for op in kws.ops if op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")])
    for op in changed:
        before, after = kws.tensors[op.inputs[1]], w4.tensors[op.inputs[1]]

        def rows(t):   # one row per channel (the quantized dimension first)
            axis = t.quantized_dimension if t.per_channel else 0
            return np.moveaxis(t.data, axis, 0).reshape(len(t.scale), -1)
        q, q4 = rows(before).astype(np.float64), rows(after)
        peak = np.abs(q).max(axis=1)
        assert np.abs(q4).max() <= 7 and np.all(np.abs(q4).max(axis=1) == np.where(peak > 0, 7, 0))
        # The real values move by at most half a 4-bit step, the scale grows by max|q| / 7.
        np.testing.assert_allclose(after.scale, before.scale * np.where(peak > 0, peak, 7) / 7, rtol=1e-6)
        real, real4 = q * before.scale[:, None], q4 * after.scale[:, None].astype(np.float64)
        assert np.all(np.abs(real - real4) <= after.scale[:, None] / 2 * (1 + 1e-6))
        b, b4 = kws.tensors[op.inputs[2]], w4.tensors[op.inputs[2]]
        # The bias keeps its real value (scale input x weight scale) to half its new step.
        assert np.all(np.abs(b.data * before.scale.astype(np.float64) - b4.data * after.scale.astype(np.float64))
                      <= after.scale.astype(np.float64) / 2 * (1 + 1e-6))
    # Written as TFLite INT4 and read back: same values, flagged int4, half the bytes.
    data = write_model(w4)
    again = parse_model(data, "w4.tflite")
    for op in changed:
        t = again.tensors[op.inputs[1]]
        assert t.int4 and np.array_equal(t.data, w4.tensors[op.inputs[1]].data)
    assert len(data) < len(write_model(kws)) - sum(w4.tensors[op.inputs[1]].data.size // 2 - 8 for op in changed)


def test_int4_outside_a_filter_is_refused(kws):
    model = int4_weights(kws)
    dw = next(op for op in model.ops if op.opcode == "DEPTHWISE_CONV_2D")
    b = model.tensors[dw.inputs[2]]   # a bias written as INT4: TFLM reads INT4 only as a filter
    b.data = np.clip(b.data, -8, 7).astype(np.int8)
    b.int4 = True
    with pytest.raises(ModelError) as error:
        parse_model(write_model(model), "dw.tflite")
    message = str(error.value)
    assert "\n" not in message and "INT4" in message and "DEPTHWISE_CONV_2D as input 2" in message
    assert "constant filter of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED" in message


def test_quantize_to_4_bits_from_float():
    pytest.importorskip("sklearn", reason="python3-sklearn is not installed")
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier
    from tinynet_py.sklearn_import import from_estimator
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier((24,), max_iter=30, random_state=0).fit(x[:600], data.target[:600])
    model = from_estimator(mlp, "digits.pkl")
    q = quantize_model(model, x[:100], weight_bits=4)
    layers = [op for op in q.ops if op.opcode == "FULLY_CONNECTED"]
    assert len(layers) == 2
    for op, coefs in zip(layers, mlp.coefs_):
        w = q.tensors[op.inputs[1]]
        assert w.int4 and w.dtype == "int8"
        real = coefs.T.astype(np.float64)                     # [units][inputs]
        scale = (np.abs(real).max(axis=1) / 7).astype(np.float32)
        np.testing.assert_array_equal(w.scale, scale)
        expected = np.clip(np.sign(real) * np.floor(np.abs(real) / scale[:, None].astype(np.float64) + 0.5), -7, 7)
        np.testing.assert_array_equal(w.data, expected)


def test_cli_weight_bits_4_needs_int8_or_quantize(tmp_path):
    model = shared_path("models", "mlperf-tiny", "kws_ref_model_float32.tflite")
    proc = run_tinynet("convert", model, "--weight-bits", "4", "-o", tmp_path / "m.hpp")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("tinynet: error:") and "--weight-bits 4" in proc.stderr
