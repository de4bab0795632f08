"""examples/vibration: an autoencoder trained on synthetic machine vibration (train.py), quantized
and pruned by `tinynet convert`, scoring every window of the evaluation sets (main.cpp) on the host
and on a Cortex-M4 under QEMU, and the alarm table of evaluate.py.

- the device prints the host's scores, number for number;
- every int8 score is what the numpy reference interpreter (bit-exact with TFLM) and an
  independent numpy scoring give for the same converted model;
- the alarm table: the false-alarm rate on normal test data stays near the 1 % chosen on held-out
  normal data, the float model detects every fault, int8 costs little, and the pruned network
  still detects most faults (the README's table is this one);
- train.py writes the same data on a second run."""

import argparse
import importlib.util
import pickle
import re
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT
from device_examples import needs_cortex_m, run_example_on_cortex_m4

EXAMPLE = ROOT / "examples" / "vibration"
PYTHON = "/usr/bin/python3"
# examples/vibration/train.py, for the set names and what the network reads
_spec = importlib.util.spec_from_file_location("vibration_train", EXAMPLE / "train.py")
train = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train)

pytestmark = pytest.mark.skipif(not shutil.which("cmake"), reason="cmake not installed")


@pytest.fixture(scope="module")
def built(example_build):
    pytest.importorskip("sklearn", reason="python3-sklearn is not installed")
    data = example_build("vibration")
    host = subprocess.run([str(data / "vibration")], capture_output=True, text=True, timeout=60)
    assert host.returncode == 0, host.stdout[-2000:] + host.stderr
    return data, host.stdout


def scores(text):
    return {(label, name): [int(v) for v in values.split()]
            for label, name, values in re.findall(r"^scores (\S+) (\w+):((?: -?\d+)*)$", text, re.M)}


@needs_cortex_m
def test_the_cortex_m4_gives_the_host_scores(built):
    data, host = built
    device = run_example_on_cortex_m4(EXAMPLE / "main.cpp", data, data / "vibration_m4.elf")
    counted = re.findall(r"^instructions per window \((\S+), scoring included, QEMU icount\): (\d+)$", device, re.M)
    assert [label for label, _ in counted] == ["int8", "pruned-int8"], device[-2000:]
    assert all(0 < int(n) < 50_000 for _, n in counted), counted
    # Every other line, the scores above all, is the host's, character for character.
    assert "\n".join(line for line in device.splitlines() if not line.startswith("instructions")) == host.rstrip("\n")
    assert len(scores(host)) == 10


def converted_model(data, kind):
    """The network CMake converted, made again by the generator's pipeline with the same flags
    (read from examples/vibration/CMakeLists.txt)."""
    from tinynet_py import pipeline
    cmake = (EXAMPLE / "CMakeLists.txt").read_text()
    flags = re.search(rf"set\({kind}_flags ([^)]*)\)", cmake).group(1).replace("${data}", str(data)).split()
    parser = argparse.ArgumentParser()
    pipeline.add_model_argument(parser)
    pipeline.add_compression_arguments(parser)
    return pipeline.prepare(parser.parse_args([str(data / "vibration_ae.pkl"), *flags]), progress=lambda _: None).model


def test_int8_scores_match_the_reference_interpreter(built):
    """The squared reconstruction error in output steps, the target of each band quantized like the
    output without clamping, recomputed here with the numpy reference interpreter."""
    from tinynet_py import fixedpoint as fp
    from tinynet_py.data import quantize_input
    from tinynet_py.reference import Interpreter
    data, host = built
    printed = scores(host)
    sets = np.load(data / "sets.npz")
    for kind, label in [("int8", "int8"), ("pruned", "pruned-int8")]:
        model = converted_model(data, kind)
        interpreter = Interpreter(model)
        tin, tout = model.tensors[model.inputs[0]], model.tensors[model.outputs[0]]
        for name, _, _ in train.SETS:
            x = train.network_input(sets[name], sets["band_mean"])
            target = fp.tflite_round((x / np.float32(tout.scale_scalar)).astype(np.float64)).astype(np.int64) + \
                tout.zero_point_scalar
            expected = [int(((interpreter.invoke([quantize_input(row, tin)])[0].reshape(-1).astype(np.int64) - t) ** 2).sum())
                        for row, t in zip(x, target)]
            assert printed[(label, name)] == expected, (label, name)


def alarm_table(text):
    rows = {}
    for label, threshold, false_alarms, *detected in re.findall(
            r"^(float|int8|pruned-int8) +([\d.]+) +([\d.]+)% +([\d.]+)% +([\d.]+)% +([\d.]+)%$", text, re.M):
        rows[label] = (float(false_alarms), [float(d) for d in detected])
    assert list(rows) == ["float", "int8", "pruned-int8"], text
    return rows


def test_alarm_rates_before_and_after_compression(built, tmp_path):
    data, host = built
    output = tmp_path / "scores.txt"
    output.write_text(host)
    table = subprocess.run([PYTHON, str(EXAMPLE / "evaluate.py"), str(data), "--scores", str(output)],
                           capture_output=True, text=True, timeout=120)
    assert table.returncode == 0, table.stderr
    assert "false alarms come first" in table.stdout
    rows = alarm_table(table.stdout)
    float_fa, float_detected = rows["float"]
    int8_fa, int8_detected = rows["int8"]
    pruned_fa, pruned_detected = rows["pruned-int8"]
    # Thresholds for 1 % on 1000 held-out windows; on 1000 other normal windows the rate stays close.
    assert all(fa <= 2.5 for fa in (float_fa, int8_fa, pruned_fa)), table.stdout
    assert min(float_detected) >= 95, table.stdout                         # bearing, imbalance, broken tooth
    assert all(i >= f - 3 for i, f in zip(int8_detected, float_detected)), table.stdout   # int8 costs little
    assert min(pruned_detected) >= 75, table.stdout
    # Pruning half of the weights without retraining costs detections (the README says so).
    assert min(p - i for p, i in zip(pruned_detected, int8_detected)) <= -5, table.stdout
    # The READMEs show this table.
    shown = [line for line in (EXAMPLE / "README.md").read_text().splitlines()
             if re.match(r"(float|int8|pruned-int8) +[\d.]+ ", line)]
    assert len(shown) == 3 and all(line in table.stdout.splitlines() for line in shown), shown
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"{float_fa:.1f} % float, {int8_fa:.1f} % int8, {pruned_fa:.1f} % pruned int8" in readme
    span = lambda detected: f"{min(detected):.1f}-{max(detected):.1f} %".replace("100.0", "100")
    assert f"{span(float_detected)}, {span(int8_detected)} and {span(pruned_detected)}" in readme
    # The same table from the program's own output (evaluate.py runs it when --scores is absent).
    again = subprocess.run([PYTHON, str(EXAMPLE / "evaluate.py"), str(data)], capture_output=True, text=True, timeout=120)
    assert again.stdout == table.stdout


def test_training_data_is_reproducible(built, tmp_path):
    data, _ = built
    subprocess.run([PYTHON, str(EXAMPLE / "train.py"), str(tmp_path)], check=True, capture_output=True, timeout=120)
    assert (tmp_path / "vibration_sets.hpp").read_bytes() == (data / "vibration_sets.hpp").read_bytes()
    assert np.array_equal(np.load(tmp_path / "calib.npz")["x"], np.load(data / "calib.npz")["x"])
    with open(tmp_path / "vibration_ae.pkl", "rb") as again, open(data / "vibration_ae.pkl", "rb") as first:
        weights = [pickle.load(f).coefs_ for f in (again, first)]          # our own files, from train.py
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
