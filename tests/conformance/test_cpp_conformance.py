"""The C++ library against TensorFlow Lite Micro: `tinynet run` on every golden input of every
supported model (one run with --sequence for a network without state), and on every int16
conformance case, must reproduce TFLM's bytes exactly.

Targets: the host always; cortex-m4 (arm-none-eabi-g++ + qemu-system-arm) when
TINYNET_TEST_TARGETS includes it (scripts/run-tests sets it when the toolchain is installed), for
the goldens. The int16 cases run on the host only here, compiled into a few programs
(many_networks.HostProgram) rather than one `tinynet run` build each: on the Cortex-M4,
test_determinism.py runs every one of them against TFLM's bytes at -O0, -O2 and -Os in one image
per level.
"""

import os
import shutil

import numpy as np
import pytest

from conftest import SHARED, model_for_golden, placeholder_if_empty, run_tinynet, shared_listing, supported_goldens
from many_networks import HostProgram
from tinynet_py.tflite import load_model

TARGETS = [t for t in os.environ.get("TINYNET_TEST_TARGETS", "host").split(",") if t]
ARM_READY = bool(shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm"))

GOLDEN = supported_goldens()
CONFORMANCE = list(shared_listing("conformance", "tflm-seanet-int16", pattern="*/*.tflite"))


def golden_inputs(directory):
    return sorted((int(p.stem.split("_")[1]), p, directory / f"out_{p.stem.split('_')[1]}.bin")
                  for p in directory.glob("in_*.bin") if (directory / f"out_{p.stem.split('_')[1]}.bin").exists())


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", placeholder_if_empty(GOLDEN, f"no goldens under {SHARED}/golden"))
def test_golden_bit_exact(name, target, tmp_path):
    if target != "host" and not ARM_READY:
        pytest.skip("arm-none-eabi-g++ or qemu-system-arm not installed")
    model = model_for_golden(name)
    directory = SHARED / "golden" / name
    pairs = golden_inputs(directory)
    assert pairs, f"no in_K.bin/out_K.bin pairs in {directory}"
    is_float = "float" in name or name == "pretrainedResnet"
    if load_model(str(model)).state_tensors():
        # State carries from one invoke to the next: one `tinynet run` per input, each from the
        # reset state, as TFLM made each golden.
        got = {}
        for k, inp, _ in pairs:
            out = tmp_path / f"out_{k}.bin"
            result = run_tinynet("run", model, "--input", inp, "--output", out, "--target", target)
            assert result.returncode == 0, result.stderr
            got[k] = out.read_bytes()
    else:
        # Without state every step of a --sequence is its own input's output: one run, one program
        # load (on the Cortex-M4 one QEMU start) for all the inputs.
        stacked, out = tmp_path / "inputs.bin", tmp_path / "outputs.bin"
        stacked.write_bytes(b"".join(inp.read_bytes() for _, inp, _ in pairs))
        result = run_tinynet("run", model, "--sequence", "--input", stacked, "--output", out, "--target", target)
        assert result.returncode == 0, result.stderr
        outputs, size = out.read_bytes(), pairs[0][2].stat().st_size
        assert len(outputs) == size * len(pairs), (len(outputs), size, len(pairs))
        got = {k: outputs[n * size:(n + 1) * size] for n, (k, _, _) in enumerate(pairs)}
    for k, _, want in pairs:
        if is_float:
            ref = np.fromfile(want, np.float32)
            np.testing.assert_allclose(np.frombuffer(got[k], np.float32), ref, rtol=1e-4, atol=1e-4, err_msg=f"{name} in_{k}")
        else:
            assert got[k] == want.read_bytes(), f"{name} in_{k}: output differs from TFLM"


def _csv(path):
    return np.loadtxt(path, delimiter=",", dtype=np.int64).reshape(-1)


DTYPES = {"int16": np.int16, "int32": np.int32, "int8": np.int8}
CHUNK = 40      # int16 cases per host program


@pytest.fixture(scope="module")
def int16_outputs(request, tmp_path_factory):
    """The selected int16 cases (pytest -k may select a few) compiled into a few host programs of
    CHUNK networks each (many_networks.HostProgram: the library's headers are parsed once per
    program, not once per case as one `tinynet run` per case did) and run on their inputs;
    returns {model path: output file, or the exception of its program}."""
    selected = [item.callspec.params["model"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_int16_conformance_bit_exact"
                and hasattr(item, "callspec")]
    models = [m for m in dict.fromkeys(selected) if m is not None]
    work = tmp_path_factory.mktemp("int16")
    outputs = {}
    for first in range(0, len(models), CHUNK):
        chunk = models[first:first + CHUNK]
        lines = []
        for k, model in enumerate(chunk):
            inputs = []
            for j, path in enumerate(sorted(model.parent.glob(f"{model.stem}_input*_*.csv"))):
                raw = work / f"{first + k}_in{j}.bin"
                _csv(path).astype(DTYPES[path.stem.rsplit("_", 1)[1]]).tofile(raw)
                inputs.append(raw)
            outputs[model] = work / f"{first + k}_out.bin"
            lines.append((k, inputs, [outputs[model]]))
        try:
            HostProgram(f"int16-conformance-{first // CHUNK}", [load_model(str(m)) for m in chunk]).run(work, lines)
        except Exception as e:      # every case of the chunk reports it
            for model in chunk:
                outputs[model] = e
    return outputs


# On the host; on the Cortex-M4 test_determinism.py runs every case at -O0, -O2 and -Os.
@pytest.mark.parametrize("model", placeholder_if_empty(CONFORMANCE, f"no conformance cases under {SHARED}"),
                         ids=lambda p: p.stem if hasattr(p, "stem") else str(p))
def test_int16_conformance_bit_exact(model, int16_outputs):
    out = int16_outputs[model]
    if isinstance(out, Exception):
        raise out
    golden = next(model.parent.glob(f"{model.stem}_golden_*.csv"))
    got = np.fromfile(out, DTYPES[golden.stem.rsplit("_", 1)[1]]).astype(np.int64)
    np.testing.assert_array_equal(got, _csv(golden), err_msg=model.name)


@pytest.mark.parametrize("target", TARGETS)
def test_lstm_state_carries_across_invokes(target, tmp_path):
    """trained_lstm_int8 keeps its hidden and cell state between invokes (variable tensors): a
    second invoke on the same input continues the sequence, so it gives the reference's second
    invoke, not TFLM's golden (made by a fresh interpreter per input)."""
    from tinynet_py.reference import Interpreter
    from tinynet_py.tflite import load_model
    if target != "host" and not ARM_READY:
        pytest.skip("arm-none-eabi-g++ or qemu-system-arm not installed")
    name = "trained_lstm_int8_logits"
    model, directory = model_for_golden(name), SHARED / "golden" / name
    x = np.fromfile(directory / "in_3.bin", np.int8)
    interpreter = Interpreter(load_model(model))
    first, second = (interpreter.invoke([x])[0].reshape(-1) for _ in range(2))
    assert first.tobytes() == (directory / "out_3.bin").read_bytes()
    assert first.tobytes() != second.tobytes(), "the model's state should change its second output"
    out = tmp_path / "out.bin"
    result = run_tinynet("run", model, "--input", directory / "in_3.bin", "--output", out, "--target", target,
                         "--invokes", "2")
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == second.tobytes()
