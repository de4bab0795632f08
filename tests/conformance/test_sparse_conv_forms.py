"""Sparse Conv2D and DepthwiseConv2D through the generator: pruned models (unstructured, 2:4,
block4), each written in every --sparse form (nm: 2:4 and 1:4), compiled into ONE host program
(many_networks), give the numpy reference interpreter's bytes; kws_ref_model pruned 80 % and 2:4 with the automatic form
likewise. Also the pruning patterns themselves (prune.prune_pattern), the CLI's checks, and the
automatic form under each optimization level (tests/cpp/sparse_build_goal.cpp)."""

import shutil
import subprocess

import numpy as np
import pytest

import synthetic_models as sm
from conftest import ROOT, run_tinynet, shared_path
from many_networks import HostProgram
from tinynet_py import prune
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import load_model, parse_model

FORMS = ("dense", "unrolled", "compressed", "auto")
# (name, how to prune): unstructured per layer, or a pattern.
PRUNINGS = (("u80", lambda m: prune.prune_synapses(m, 0.8, "layer")[0]),
            ("2:4", lambda m: prune.prune_pattern(m, 0.0, "2:4")[0]),
            ("block4", lambda m: prune.prune_pattern(m, 0.5, "block4")[0]))


def _layers():
    """Small single-op models: a 1x1 conv with stride 2, a 3x3 SAME conv with stride 2, depthwise
    3x3 (multiplier 1, and 2 with stride 2). (Dilation and more shapes: tests/cpp/test_sparse_conv.cpp.)"""
    cases = [sm.conv_case("sparse 1x1 s2", (1, 7, 5, 16), 20, (1, 1), stride=(2, 2), in_zp=-128),
             sm.conv_case("sparse 3x3 s2", (1, 9, 8, 8), 6, (3, 3), stride=(2, 2), activation="RELU"),
             sm.depthwise_case("sparse dw", (1, 6, 5, 16), 1, (3, 3)),
             sm.depthwise_case("sparse dw m2 s2", (1, 7, 6, 4), 2, (3, 3), stride=(2, 2))]
    return [(c.name, parse_model(c.data), c.feeds) for c in cases]


@pytest.fixture(scope="module")
def program_and_cases():
    """Every (layer, pruning, form), plus kws pruned 80 % (automatic form), in one program."""
    cases = []   # (label, model, feeds)
    for name, model, feeds in _layers():
        for label, how in PRUNINGS:
            pruned = how(model)
            for form in FORMS:
                cases.append((f"{name} {label} {form}", pruned, feeds, form))
        # The nm form (2:4 and 1:4; a DepthwiseConv2D runs dense), and 1:4's automatic choice.
        for label, form in (("2:4", "nm"), ("1:4", "nm"), ("1:4", "auto")):
            cases.append((f"{name} {label} {form}", prune.prune_pattern(model, 0.0, label)[0], feeds, form))
    kws = load_model(str(shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")))
    shape = kws.tensors[kws.inputs[0]].shape
    rng = np.random.RandomState(15)
    kws_feeds = [[rng.randint(-128, 128, shape).astype(np.int8)] for _ in range(2)]
    cases.append(("kws u80 auto", prune.prune_synapses(kws, 0.8, "layer")[0], kws_feeds, "auto"))
    program = HostProgram("sparse-conv", [c[1] for c in cases], sparse=[c[3] for c in cases])
    return program, cases


def test_every_form_and_pattern_gives_the_reference_bytes(program_and_cases, tmp_path):
    program, cases = program_and_cases
    lines, expected = [], []
    for k, (label, model, feeds, _) in enumerate(cases):
        interpreter = Interpreter(model)
        for j, feed in enumerate(feeds):
            x = np.asarray(feed[0], np.int8)
            path_in, path_out = tmp_path / f"in_{k}_{j}.bin", tmp_path / f"out_{k}_{j}.bin"
            x.tofile(path_in)
            lines.append((k, [path_in], [path_out]))
            expected.append((label, j, path_out, interpreter.invoke([x])[0].reshape(-1)))
    program.run(str(tmp_path), lines)
    failures = [f"{label} input {j}" for label, j, path, want in expected
                if not np.array_equal(np.fromfile(path, np.int8), want)]
    assert not failures, "differ from the numpy reference: " + ", ".join(failures)
    # The outputs are not degenerate: the pruned layers' outputs vary over the inputs.
    assert len({np.fromfile(path, np.int8).tobytes() for _, _, path, _ in expected}) > len(cases)


def _groups(data, size):
    last = data.shape[-1]
    usable = last - last % size
    return data.reshape(-1, last)[:, :usable].reshape(-1, size)


@pytest.mark.parametrize("pattern,kept", (("2:4", 2), ("1:4", 1)))
def test_n_of_m_keeps_the_largest_of_every_group(pattern, kept):
    model = load_model(str(shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")))
    pruned, rows = prune.prune_pattern(model, 0.0, pattern)
    assert rows
    for op, row in zip([o for o in pruned.ops if o.opcode in prune.WEIGHTED], rows):
        weights = model.tensors[op.inputs[1]]
        before = _groups(weights.data, 4)
        after = _groups(pruned.tensors[op.inputs[1]].data, 4)
        if before.size == 0:    # fewer than 4 input channels (kws' first conv): left as is
            continue
        assert (np.count_nonzero(after, axis=1) <= kept).all()
        # Every kept weight is one of the group's `kept` largest real magnitudes (int8 times the
        # channel's scale: a depthwise group spans 4 channels of different scales).
        magnitude = np.abs(_groups(weights.data * np.broadcast_to(
            weights.scale.reshape([-1 if d == weights.quantized_dimension else 1 for d in range(weights.data.ndim)]),
            weights.data.shape), 4))
        kth = -np.sort(-magnitude, axis=1)[:, kept - 1:kept]
        assert (magnitude[after != 0] >= np.broadcast_to(kth, after.shape)[after != 0]).all()
        np.testing.assert_array_equal(after[after != 0], before[after != 0])
        assert row["nonzero_after"] <= row["weights"] * kept // 4 + row["weights"] % 4 + 4


def test_block_pattern_zeroes_whole_blocks():
    model = load_model(str(shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")))
    pruned, _ = prune.prune_pattern(model, 0.75, "block4")
    for op in pruned.ops:
        if op.opcode not in prune.WEIGHTED or pruned.tensors[op.inputs[1]].shape[-1] % 4:
            continue
        blocks = _groups(pruned.tensors[op.inputs[1]].data, 4)
        zero = (blocks == 0).all(axis=1)
        assert zero.sum() == int(np.floor(0.75 * len(blocks)))


@pytest.mark.parametrize("args,message", (
    (("--prune-pattern", "3:2"), "--prune-pattern must be N:M"),
    (("--prune-pattern", "2:4", "--prune-synapses", "0.8"), "--prune-pattern 2:4 zeroes 0.5"),
    (("--prune-pattern", "block4"), "needs --prune-synapses"),
    (("--prune-pattern", "2:4", "--prune-scope", "global"), "does not take"),
))
def test_cli_refuses_bad_patterns(args, message, tmp_path):
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    proc = run_tinynet("convert", model, *args, "-o", tmp_path / "kws.hpp")
    assert proc.returncode == 2
    assert proc.stderr.startswith("tinynet: error:") and message in proc.stderr, proc.stderr


def test_cli_convert_writes_nm_into_every_weighted_layer(tmp_path):
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    out = tmp_path / "kws.hpp"
    proc = run_tinynet("convert", model, "--prune-pattern", "2:4", "--sparse", "nm", "-o", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.count(".sparse_form = tinynet::SparseForm::nm") == 9   # 5 Conv2D + 4 DepthwiseConv2D (which run dense)
    assert text.count("tinynet::SparseForm::nm") == 10                 # and the FullyConnected


def test_cli_convert_writes_the_form_into_conv_layers(tmp_path):
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    out = tmp_path / "kws.hpp"
    proc = run_tinynet("convert", model, "--prune-pattern", "2:4", "--sparse", "compressed", "-o", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert text.count(".sparse_form = tinynet::SparseForm::compressed") == 9   # 5 Conv2D + 4 DepthwiseConv2D
    assert text.count("tinynet::SparseForm::compressed") == 10                 # and the FullyConnected


# (compiler, optimization level, the build's goal: 0 none, 1 speed, 2 size): the automatic rule
# unrolls in a build for speed, and in a build for size only a depthwise layer whose unrolled code
# is smaller; -O0 takes `compressed` or dense (core/sparsity.hpp).
def _goal(level):
    return 1 if level in ("-O1", "-O2", "-O3") else 2 if level in ("-Os", "-Oz") else 0


BUILD_GOALS = [(cxx, level, _goal(level))
               for cxx in ("g++", "clang++") for level in ("-O0", "-O1", "-O2", "-O3", "-Os", "-Oz")] + \
              [("arm-none-eabi-g++", level, _goal(level)) for level in ("-O2", "-Os")]


@pytest.mark.parametrize("cxx,level,goal", BUILD_GOALS, ids=[f"{c} {lv}" for c, lv, _ in BUILD_GOALS])
def test_the_automatic_form_follows_the_optimization_level(cxx, level, goal):
    if shutil.which(cxx) is None:
        pytest.skip(f"{cxx} not installed")
    source = ROOT / "tests" / "cpp" / "sparse_build_goal.cpp"
    flags = ["-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic", "-Werror", level,
             f"-I{ROOT / 'include'}", f"-I{ROOT / 'tests' / 'cpp'}"]
    if cxx.startswith("arm-none-eabi"):
        flags += ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-fno-exceptions", "-fno-rtti"]
    for expect in (0, 1, 2):   # the expected goal compiles, the others are refused
        proc = subprocess.run([cxx, *flags, f"-DEXPECT_GOAL={expect}", str(source)],
                              capture_output=True, text=True)
        if expect == goal:
            assert proc.returncode == 0, proc.stderr[-3000:]
        else:
            assert proc.returncode != 0 and ("static assert" in proc.stderr or "static_assert" in proc.stderr), \
                proc.stderr[-3000:]
