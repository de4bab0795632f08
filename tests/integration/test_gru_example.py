"""examples/gru: a gesture GRU trained with numpy and written as TFLite writes a Keras GRU unrolled
(train.py: UNPACK, FULLY_CONNECTED, SPLIT, ADD, MUL, SUB, LOGISTIC, TANH per step), quantized to
int8 by `tinynet convert --quantize`, classifying the held-out gestures (main.cpp) on the host and
on a Cortex-M4 under QEMU, and the accuracy table of evaluate.py.

- every int8 output byte the host prints is what the numpy reference interpreter (bit-exact with
  TFLM) gives for the same converted model;
- the device prints the host's outputs, byte for byte;
- float and int8 accuracy on the 400 held-out gestures: the float model learns the task (the
  clockwise and counter-clockwise circles included, which only the order of the steps tells apart),
  int8 loses at most a point and a half, and the README shows this table."""

import argparse
import importlib.util
import re
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT
from device_examples import needs_cortex_m, run_example_on_cortex_m4

EXAMPLE = ROOT / "examples" / "gru"
PYTHON = "/usr/bin/python3"
_spec = importlib.util.spec_from_file_location("gru_train", EXAMPLE / "train.py")
train = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train)

pytestmark = pytest.mark.skipif(not shutil.which("cmake"), reason="cmake not installed")


@pytest.fixture(scope="module")
def built(example_build):
    data = example_build("gru")
    host = subprocess.run([str(data / "gru")], capture_output=True, text=True, timeout=60)
    assert host.returncode == 0, host.stdout[-2000:] + host.stderr
    return data, host.stdout


def outputs(text):
    block = re.search(r"^outputs:\n((?: .*\n)*)", text, re.M).group(1)
    return np.array([[int(v) for v in item.split(",")] for item in block.split()], dtype=np.int64)


def test_the_model_is_the_unrolled_gru_tflite_writes(built):
    from tinynet_py.tflite import load_model
    data, _ = built
    model = load_model(data / "gru_float.tflite")
    counts = {}
    for op in model.ops:
        counts[op.opcode] = counts.get(op.opcode, 0) + 1
    steps = train.STEPS
    assert counts == {"UNPACK": 1, "FULLY_CONNECTED": 2 * steps, "SPLIT": 2 * steps - 1, "ADD": 4 * steps - 1,
                      "LOGISTIC": 2 * steps, "TANH": steps, "MUL": 3 * steps - 1, "SUB": steps, "SOFTMAX": 1}


def converted_model(data):
    """The network CMake converted, made again by the generator's pipeline with the same flags
    (read from examples/gru/CMakeLists.txt)."""
    from tinynet_py import pipeline
    cmake = (EXAMPLE / "CMakeLists.txt").read_text()
    flags = re.search(r"set\(int8_flags ([^)]*)\)", cmake).group(1).replace("${data}", str(data)).split()
    parser = argparse.ArgumentParser()
    pipeline.add_model_argument(parser)
    pipeline.add_compression_arguments(parser)
    return pipeline.prepare(parser.parse_args([str(data / "gru_float.tflite"), *flags]), progress=lambda _: None).model


def test_host_outputs_are_the_reference_interpreters_byte_for_byte(built):
    from tinynet_py.data import quantize_input
    from tinynet_py.reference import Interpreter
    data, host = built
    model = converted_model(data)
    interpreter = Interpreter(model)
    tin = model.tensors[model.inputs[0]]
    test = np.load(data / "test.npz")
    expected = np.array([interpreter.invoke([quantize_input(x.reshape(-1), tin)])[0].reshape(-1)
                         for x in train.network_input(test["codes"])], dtype=np.int64)
    printed = outputs(host)
    assert printed.shape == expected.shape == (len(test["labels"]), len(train.GESTURES))
    assert np.array_equal(printed, expected)
    assert len(np.unique(printed.argmax(axis=1))) == len(train.GESTURES)     # not one answer for all
    correct = int((printed.argmax(axis=1) == test["labels"]).sum())
    assert f"int8 correct: {correct} of {len(test['labels'])} held-out gestures" in host


@needs_cortex_m
def test_the_cortex_m4_prints_the_host_outputs(built):
    data, host = built
    device = run_example_on_cortex_m4(EXAMPLE / "main.cpp", data, data / "gru_m4.elf")
    counted = re.findall(r"^instructions per gesture \(QEMU icount\): (\d+)$", device, re.M)
    assert len(counted) == 1 and 0 < int(counted[0]) < 1_000_000, device[-2000:]
    assert "\n".join(line for line in device.splitlines() if not line.startswith("instructions")) == host.rstrip("\n")


def test_float_and_int8_accuracy_on_held_out_gestures(built, tmp_path):
    data, host = built
    output = tmp_path / "outputs.txt"
    output.write_text(host)
    table = subprocess.run([PYTHON, str(EXAMPLE / "evaluate.py"), str(data), "--outputs", str(output)],
                           capture_output=True, text=True, timeout=120)
    assert table.returncode == 0, table.stderr
    rows = {name: (float(f), float(i)) for name, f, i in
            re.findall(r"^(\w+) +\d+ +([\d.]+)% +([\d.]+)%$", table.stdout, re.M)}
    assert list(rows) == [*train.GESTURES, "all"], table.stdout
    float_all, int8_all = rows["all"]
    assert float_all >= 92, table.stdout
    assert min(f for f, _ in rows.values()) >= 85, table.stdout                 # every gesture, both circles
    assert int8_all >= float_all - 1.5, table.stdout                            # int8 costs little
    agree = int(re.search(r"agree on (\d+) of 400", table.stdout).group(1))
    assert agree >= 390, table.stdout
    # examples/gru/README.md shows this table, README.md its last row.
    shown = [line for line in (EXAMPLE / "README.md").read_text().splitlines()
             if re.match(r"(idle|circle_cw|circle_ccw|shake|all) +\d+ |int8 and float agree", line)]
    assert len(shown) == 6 and all(line in table.stdout.splitlines() for line in shown), shown
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"On 400 held-out gestures: {float_all:.1f} % float, {int8_all:.1f} % int8" in readme
