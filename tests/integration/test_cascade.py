"""examples/cascade: micro_speech decides whether kws_ref_model runs, both in one SharedArena.
Each stage's scores must be TFLM's golden bytes (the arena sharing must not disturb either
network), the second stage must run exactly when the first hears a word, and the shared arena must
be the larger of the two arenas, not their sum. The same main.cpp built for a Cortex-M4 (no heap)
reads the golden files through semihosting under QEMU and must print the host's scores and
decisions."""

import re
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT, shared_path
from device_examples import needs_cortex_m, run_example_on_cortex_m4

needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")


@pytest.fixture(scope="module")
def built(example_build):
    """The host example built by CMake and its output on TFLM's golden inputs."""
    build_dir = example_build("cascade").parent
    program = build_dir / "cascade" / "cascade"
    result = subprocess.run([str(program)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return build_dir, program, result


@needs_cmake
def test_cascade_runs_the_second_stage_only_on_words_and_shares_one_arena(built):
    wake_golden = shared_path("golden", "micro_speech_quantized")
    command_golden = shared_path("golden", "kws_ref_model")
    _, program, result = built

    shared, wake_arena, command_arena, apart = map(int, re.search(
        r"^arena: (\d+) bytes shared \(micro_speech (\d+) \+ kws (\d+) = (\d+) apart\)$", result.stdout, re.M).groups())
    assert shared == max(wake_arena, command_arena) and apart == wake_arena + command_arena
    assert shared < apart

    blocks = result.stdout.split("\n/")[1:]
    assert len(blocks) == 8, result.stdout
    ran = 0
    for k, block in enumerate(blocks):
        assert f"micro_speech_quantized/in_{k}.bin" in block.splitlines()[0]
        wake = [int(s) for s in re.search(r"wake scores:([- \d]+)$", block, re.M).group(1).split()]
        expected_wake = np.fromfile(wake_golden / f"out_{k}.bin", dtype=np.int8)
        assert wake == expected_wake.tolist(), f"in_{k}: micro_speech scores differ from TFLM's"
        heard_word = int(np.argmax(expected_wake)) in (2, 3)  # "yes", "no"
        if not heard_word:
            assert "command: not run" in block, block
            continue
        ran += 1
        command = [int(s) for s in re.search(r"command scores:([- \d]+)$", block, re.M).group(1).split()]
        expected_command = np.fromfile(command_golden / f"out_{k}.bin", dtype=np.int8)
        assert command == expected_command.tolist(), f"in_{k}: kws scores differ from TFLM's in the shared arena"
    assert 0 < ran < 8  # both branches of the cascade were taken

    # An odd number of files is a usage error.
    odd = subprocess.run([str(program), str(wake_golden / "in_0.bin")], capture_output=True, text=True, timeout=60)
    assert odd.returncode == 1 and "pairs of files" in odd.stderr


@needs_cmake
@needs_cortex_m
def test_the_cortex_m4_prints_the_host_cascade(built):
    build_dir, _, host = built
    shared = shared_path("golden", "micro_speech_quantized").parents[1]
    # The device opens golden/<model>/in_K.bin relative to QEMU's working directory (run.py --cwd).
    device = run_example_on_cortex_m4(ROOT / "examples" / "cascade" / "main.cpp", build_dir / "cascade",
                                      build_dir / "cascade_m4.elf", defines=['-DCASCADE_GOLDEN="golden"'], cwd=shared)
    # Every line is the host's (the arena sizes, the scores of both stages, which inputs woke the
    # second stage), the file names relative to the working directory.
    expected = host.stdout.replace(str(shared) + "/golden/", "golden/")
    assert "command scores:" in expected and "command: not run" in expected
    assert device == expected
