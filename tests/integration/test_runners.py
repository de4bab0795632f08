"""The runners in targets/ (host/run_main.cpp, cortex-m/run_main.cpp), built for a network with two
inputs and two outputs of different sizes: each input file goes to its own input and each output to
its own file, in order. The expected bytes are written by hand: CONCATENATION with the inputs'
quantization copies them."""

import shutil
import subprocess

import numpy as np
import pytest

import synthetic_models as sm
from tinynet_py import tflite_builder as b
from conftest import run_tinynet
from tinynet_py import emit, runner
from tinynet_py.tflite import parse_model

X0 = np.array([[-128, 0, 127]], np.int8)
X1 = np.array([[1, 2, 3, 4, 5]], np.int8)
EXPECTED = [np.concatenate([X0, X1], axis=1), np.concatenate([X1, X1, X0], axis=1)]


def two_in_two_out():
    g = sm.Graph()
    x0, x1 = g.q8((1, 3), 0.05, -7), g.q8((1, 5), 0.05, -7)
    y0, y1 = g.q8((1, 8), 0.05, -7), g.q8((1, 13), 0.05, -7)
    g.op("CONCATENATION", [x0, x1], [y0], sm.OPT["CONCATENATION"], b.T(f0=("int32", 1)))
    g.op("CONCATENATION", [x1, x1, x0], [y1], sm.OPT["CONCATENATION"], b.T(f0=("int32", 1)))
    return g.build([x0, x1], [y0, y1])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("runners") / "two.tflite"
    path.write_bytes(two_in_two_out())
    return path


@pytest.mark.parametrize("target", ["host", "cortex-m4"])
def test_every_input_and_output_in_order(model_file, target, tmp_path):
    if target != "host" and not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")):
        pytest.skip("arm-none-eabi-g++ or qemu-system-arm not installed")
    X0.tofile(tmp_path / "x0.bin")
    X1.tofile(tmp_path / "x1.bin")
    result = run_tinynet("run", model_file, "--input", tmp_path / "x0.bin", "--input", tmp_path / "x1.bin",
                         "--output", tmp_path / "y0.bin", "--output", tmp_path / "y1.bin", "--target", target)
    assert result.returncode == 0, result.stderr
    for k, want in enumerate(EXPECTED):
        assert (tmp_path / f"y{k}.bin").read_bytes() == want.tobytes(), f"output {k} on {target}"


def test_host_runner_checks_its_arguments_and_input_sizes(model_file, tmp_path):
    model = parse_model(model_file.read_bytes(), model_file.name)
    binary = runner.build_host(emit.generate_header(model, "two"), "two")
    usage = subprocess.run([binary, "a"], capture_output=True, text=True)
    assert usage.returncode == 2 and usage.stderr.strip().endswith("runner IN0 IN1 OUT0 OUT1")
    X1.tofile(tmp_path / "x1.bin")
    paths = [tmp_path / "x1.bin", tmp_path / "x1.bin", tmp_path / "y0.bin", tmp_path / "y1.bin"]
    wrong = subprocess.run([binary, *map(str, paths)], capture_output=True, text=True)
    assert wrong.returncode == 3 and "x1.bin: expected 3 bytes" in wrong.stderr
    assert not (tmp_path / "y0.bin").exists()


# ---- state across invokes (--invokes, --sequence) -------------------------------------------------
# An SVDF keeps its activation state from one invoke to the next; the expected outputs come from the
# numpy reference interpreter (its own implementation of TFLM's SVDF), invoked the same way.

@pytest.fixture(scope="module")
def svdf_file(tmp_path_factory):
    case = sm.svdf_case("runner_svdf", 1, 6, 3, 2, 4, in_zp=-4, out_zp=2)
    path = tmp_path_factory.mktemp("runners") / "svdf.tflite"
    path.write_bytes(case.data)
    return path, case


def test_invokes_repeats_one_input_and_keeps_the_last_output(svdf_file, tmp_path):
    from tinynet_py.reference import Interpreter
    path, case = svdf_file
    reference = Interpreter(parse_model(path.read_bytes(), path.name))
    x = case.feeds[-1][0]
    x.tofile(tmp_path / "x.bin")
    wanted = [reference.invoke([x])[0].tobytes() for _ in range(3)]
    assert wanted[0] != wanted[2], "the state must change the output, or this test proves nothing"
    for invokes in (1, 3):
        out = tmp_path / f"y{invokes}.bin"
        result = run_tinynet("run", path, "--input", tmp_path / "x.bin", "--output", out, "--invokes", str(invokes))
        assert result.returncode == 0, result.stderr
        assert out.read_bytes() == wanted[invokes - 1]
    bad = run_tinynet("run", path, "--input", tmp_path / "x.bin", "--output", tmp_path / "z.bin", "--invokes", "0")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--invokes 0" in bad.stderr


@pytest.mark.parametrize("target", ["host", "cortex-m4"])
def test_sequence_carries_state_from_step_to_step(svdf_file, target, tmp_path):
    if target != "host" and not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")):
        pytest.skip("arm-none-eabi-g++ or qemu-system-arm not installed")
    from tinynet_py.reference import Interpreter
    path, case = svdf_file
    reference = Interpreter(parse_model(path.read_bytes(), path.name))
    steps = np.stack([feed[0] for feed in case.feeds[-4:]])           # 4 steps of shape (1, 6)
    np.save(tmp_path / "xs.npy", steps)
    wanted = np.stack([reference.invoke([x])[0] for x in steps])
    result = run_tinynet("run", path, "--sequence", "--input", tmp_path / "xs.npy", "--output", tmp_path / "ys.npy",
                         "--target", target)
    assert result.returncode == 0, result.stderr
    got = np.load(tmp_path / "ys.npy")
    assert got.shape == (4, 1, 3) and got.dtype == np.int8
    assert np.array_equal(got, wanted), f"on {target}"
    if target == "host":   # the same steps as one .bin, back to back; a partial step is refused
        steps.tofile(tmp_path / "xs.bin")
        result = run_tinynet("run", path, "--sequence", "--input", tmp_path / "xs.bin", "--output", tmp_path / "ys.bin")
        assert result.returncode == 0 and (tmp_path / "ys.bin").read_bytes() == wanted.tobytes()
        (tmp_path / "odd.bin").write_bytes(steps.tobytes()[:-1])
        bad = run_tinynet("run", path, "--sequence", "--input", tmp_path / "odd.bin", "--output", tmp_path / "z.bin")
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "a multiple of 6" in bad.stderr


def test_processes_that_build_one_cache_entry_at_once_all_succeed(model_file, tmp_path):
    """Four `tinynet run` of one model started together on an empty cache all compile the same
    entry: each writes its header and program under its own name and renames them into place
    (runner.py), so none reads a header another is rewriting or runs a half-written program."""
    import os
    X0.tofile(tmp_path / "x0.bin")
    X1.tofile(tmp_path / "x1.bin")
    env = dict(os.environ, TINYNET_CACHE=str(tmp_path / "cache"))
    procs = [subprocess.Popen([str(runner.REPO + "/scripts/tinynet"), "run", str(model_file),
                               "--input", str(tmp_path / "x0.bin"), "--input", str(tmp_path / "x1.bin"),
                               "--output", str(tmp_path / f"y0_{k}.bin"), "--output", str(tmp_path / f"y1_{k}.bin"),
                               "--target", "host"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for k in range(4)]
    for k, proc in enumerate(procs):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"process {k}: {err}"
        for j, want in enumerate(EXPECTED):
            assert (tmp_path / f"y{j}_{k}.bin").read_bytes() == want.tobytes(), f"process {k}, output {j}"
    entries = [p for p in (tmp_path / "cache").iterdir() if p.name.startswith("host-")]
    assert len(entries) == 1, "the four processes built different cache entries: the test no longer races"
    assert not list(entries[0].glob("*.tmp")), "a process left its temporary file behind"
