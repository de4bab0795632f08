"""scripts/run-tests: its usage, and which ctest tests make up the fast tier (`--quick` runs the
tests labelled `quick`; the full run leaves out those labelled `subset`)."""

import re
import shutil
import subprocess

import pytest

from conftest import ROOT

RUN_TESTS = ROOT / "scripts" / "run-tests"


def test_help_and_a_bad_argument():
    help_ = subprocess.run([str(RUN_TESTS), "--help"], capture_output=True, text=True, timeout=30)
    assert help_.returncode == 0 and "scripts/run-tests --quick" in help_.stdout
    bad = subprocess.run([str(RUN_TESTS), "--fast"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        "tinynet: error: run-tests: unknown argument '--fast' (see scripts/run-tests --help)"]


def _labelled(build, *args):
    listing = subprocess.run(["ctest", "--test-dir", str(build), "-N", *args], capture_output=True, text=True,
                             check=True).stdout
    return sorted(re.findall(r"^\s*Test\s+#\d+: (\S+)$", listing, re.M))


@pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("g++") is None, reason="cmake or g++ not installed")
def test_the_fast_tier(tmp_path):
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(tmp_path), "-DCMAKE_CXX_COMPILER=g++", "-DTINYNET_BUILD_TESTS=ON"], check=True,
                   capture_output=True, timeout=300)
    quick = _labelled(tmp_path, "-L", "quick")
    compile_fail = sorted(f"compile_fail_{p.stem}" for p in (ROOT / "tests" / "compile_fail").glob("*.cpp"))
    assert compile_fail
    expected = sorted(["unit_tests", "conformance_quick"] + compile_fail +
                      (["cortex_m_tinynet_cortex-m4"] if shutil.which("qemu-system-arm") else []))
    assert quick == expected
    assert _labelled(tmp_path, "-L", "subset") == ["conformance_quick"]
    assert "python_tests" in _labelled(tmp_path, "-LE", "subset")
