"""examples/cascade: micro_speech decides whether kws_ref_model runs, both in one SharedArena.
Each stage's scores must be TFLM's golden bytes (the arena sharing must not disturb either
network), the second stage must run exactly when the first hears a word, and the shared arena must
be the larger of the two arenas, not their sum."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from conftest import ROOT, shared_path

needs_cmake = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")


@needs_cmake
def test_cascade_runs_the_second_stage_only_on_words_and_shares_one_arena(tmp_path):
    wake_golden = shared_path("golden", "micro_speech_quantized")
    command_golden = shared_path("golden", "kws_ref_model")
    env = dict(os.environ, TINYNET_SHARED=str(wake_golden.parents[1]))
    subprocess.run(["cmake", "-S", str(ROOT / "examples"), "-B", str(tmp_path), "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, capture_output=True, env=env)
    build = subprocess.run(["cmake", "--build", str(tmp_path), "--target", "cascade", "--", "-j2"],
                           capture_output=True, text=True, env=env)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    program = tmp_path / "cascade" / "cascade"
    result = subprocess.run([str(program)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

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
