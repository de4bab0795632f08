"""A bounded run of the convert fuzzer (tests/fuzz/fuzz_convert.py) on the real models: every
mutated model ends in a correct header or in one clean error line with exit status 2, names
mutated into control characters and splices reach the header only inside comments, and the
hostile corpus (pickles that run code, hostile names, ONNX external data outside the folder) is
refused or escaped.

CI runs 300 cases with a fixed seed (about a minute on one core). A longer run, on demand:
    tests/fuzz/fuzz_convert.py --seed 7 --cases 20000 --compile 40 --findings /tmp/findings
TINYNET_FUZZ_SEED and TINYNET_FUZZ_CASES change this test's run.
"""

import os
import sys

import pytest

from conftest import ROOT, SHARED

sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
import fuzz_convert  # noqa: E402


def test_bounded_fuzz_run_has_no_findings():
    if not (SHARED / "models").is_dir():
        pytest.skip(f"{SHARED / 'models'} not found: the fuzzer mutates the real models in ../shared "
                    f"(or set TINYNET_SHARED)")
    seed = int(os.environ.get("TINYNET_FUZZ_SEED", "1"))
    cases = int(os.environ.get("TINYNET_FUZZ_CASES", "300"))
    lines = []
    counts, findings = fuzz_convert.fuzz(seed, cases, fuzz_convert.DEFAULT_MODELS, timeout=60.0,
                                         compile_count=3, subprocess_every=10, log=lines.append)
    report = "\n".join(f"case {case} ({model}: {'; '.join(steps)}): {what}" for case, model, steps, what in findings)
    assert not findings, (f"{len(findings)} findings (replay one with tests/fuzz/fuzz_convert.py --seed {seed} "
                          f"--case N):\n{report}")
    # The run exercised both outcomes, and the header check really compiled some headers; the
    # hostile corpus ran, and some headers were written from models with hostile names.
    assert counts["ok"] > 0 and counts["error"] > 0, counts
    assert counts["checked"] > 0 and counts["subprocess"] > 0, counts
    assert counts["corpus"] >= 15 and counts["names"] > 0, counts
