"""scripts/run-tests: its usage, and which ctest tests make up the fast tier (`--quick` runs the
tests labelled `quick`; the full run leaves out those labelled `subset`)."""

import json
import pathlib
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


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    """A test build folder configured with g++ (nothing built)."""
    if shutil.which("cmake") is None or shutil.which("g++") is None:
        pytest.skip("cmake or g++ not installed")
    build = tmp_path_factory.mktemp("configured")
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_CXX_COMPILER=g++", "-DTINYNET_BUILD_TESTS=ON"],
                   check=True, capture_output=True, timeout=300)
    return build


def test_the_fast_tier(configured):
    quick = _labelled(configured, "-L", "quick")
    compile_fail = sorted(f"compile_fail_{p.stem}" for p in (ROOT / "tests" / "compile_fail").glob("*.cpp"))
    assert compile_fail
    expected = sorted(["unit_tests", "conformance_quick"] + compile_fail +
                      (["cortex_m_tinynet_cortex-m4"] if shutil.which("qemu-system-arm") else []))
    assert quick == expected
    assert _labelled(configured, "-L", "subset") == ["conformance_quick"]


def test_every_python_test_file_runs_once_in_the_full_run(configured):
    """One ctest per folder of Python tests, test_determinism apart (so that ctest -j overlaps
    them): every tests/*/test_*.py is run by exactly one of the full run's python_ tests."""
    listing = json.loads(subprocess.run(["ctest", "--test-dir", str(configured), "-N", "--show-only=json-v1"],
                                        capture_output=True, text=True, check=True).stdout)
    full = set(_labelled(configured, "-LE", "subset"))
    runs = {}
    for test in listing["tests"]:
        if not test["name"].startswith("python_") or test["name"] not in full:
            continue
        args = test["command"][test["command"].index("pytest") + 1:]
        ignored = {pathlib.Path(a.split("=", 1)[1]) for a in args if a.startswith("--ignore=")}
        for arg in (pathlib.Path(a) for a in args if pathlib.Path(a).is_absolute()):   # the folders and files
            files = sorted(arg.glob("test_*.py")) if arg.is_dir() else [arg]
            for f in files:
                if f not in ignored:
                    runs.setdefault(f.relative_to(ROOT).as_posix(), []).append(test["name"])
    assert {"python_generator", "python_conformance", "python_conformance_determinism", "python_integration"} <= full
    every = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("*/test_*.py"))
    assert every and sorted(runs) == every, set(every) ^ set(runs)
    twice = {f: names for f, names in runs.items() if len(names) > 1}
    assert not twice, twice
