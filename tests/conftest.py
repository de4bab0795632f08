"""Shared paths and helpers for tinynet's Python tests (tests/generator, tests/conformance,
tests/integration); the helper modules they import (synthetic_models, many_networks, elf_symbols,
ci_strict) are in tests/support, which this file puts on the import path.

The data in shared/ (models, goldens, conformance cases) is read in place from
`../shared` next to the repository root, or from $TINYNET_SHARED; tests that need it
skip with a message when it is absent, as do tests whose tool (arm-none-eabi-g++, QEMU, cmake,
a Python package) is not installed. In CI (the environment variable CI is true; .ci/run sets it)
every skip is a failure instead: CI must run every test.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SUPPORT = ROOT / "tests" / "support"
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(SUPPORT))

SHARED = pathlib.Path(os.environ.get("TINYNET_SHARED", ROOT.parent / "shared"))
TINYNET = ROOT / "scripts" / "tinynet"
MODEL_DIRS = ("mlperf-tiny", "tflm-examples", "derived")
# Goldens whose model tinynet refuses, and the op its one-line error names; every other golden
# model converts and must reproduce TFLM's output.
UNSUPPORTED_GOLDENS = {}   # golden name -> the op tinynet refuses in its model
# Under CI=true a skip is a failure (ci_strict.py; these imports register its hooks here).
from ci_strict import pytest_make_collect_report, pytest_runtest_makereport  # noqa: E402,F401


def shared_path(*parts):
    """A path inside shared/, or skip the test when shared/ (or that path) is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: tinynet's shared data is expected at ../shared "
                    f"(or set TINYNET_SHARED)")
    return path


def shared_listing(*parts, pattern="*"):
    """Sorted entries of a shared/ directory, for parametrize ([] when it is absent)."""
    path = SHARED.joinpath(*parts)
    return sorted(p for p in path.glob(pattern)) if path.is_dir() else []


def supported_goldens():
    """Names of the golden folders in shared/ whose model tinynet converts ([] without shared/)."""
    return [p.name for p in shared_listing("golden") if p.is_dir() and p.name not in UNSUPPORTED_GOLDENS]


def dequantized_golden_inputs(name):
    """[(stem, float32 array)] of every in_K.bin of golden `name` (int8), dequantized with the
    input scale and zero point of its meta.json: scale * (q - zero_point), in its shape."""
    import json
    import numpy as np
    directory = shared_path("golden", name)
    meta = json.loads((directory / "meta.json").read_text())["inputs"][0]
    scale, zero_point = np.float32(meta["scale"]), meta["zero_point"]
    paths = sorted(directory.glob("in_*.bin"), key=lambda p: int(p.stem.split("_")[1]))
    return [(p.stem, (scale * (np.fromfile(p, np.int8).astype(np.float32) - zero_point)).reshape(meta["shape"]))
            for p in paths]


def model_for_golden(name):
    for d in MODEL_DIRS:
        p = SHARED / "models" / d / f"{name}.tflite"
        if p.exists():
            return p
    pytest.skip(f"no model file for golden '{name}' under {SHARED / 'models'}")


def run_tinynet(*args):
    """Runs scripts/tinynet; returns CompletedProcess with text stdout/stderr."""
    return subprocess.run([str(TINYNET), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def placeholder_if_empty(items, reason):
    """parametrize values: items, or one param that skips with `reason`."""
    if items:
        return items
    return [pytest.param(None, marks=pytest.mark.skip(reason=reason))]


@pytest.fixture(scope="session")
def example_build(tmp_path_factory):
    """build(target) -> the folder of `target` (examples/CMakeLists.txt) after building it.

    One build folder for the whole session, configured once with ../shared, so the integration
    tests that each run one example (and test_examples.py, which builds them all) compile every
    example once. A failed build fails the test that asked for it, with the compiler's output.
    """
    folder = tmp_path_factory.mktemp("examples")
    env = dict(os.environ, TINYNET_SHARED=str(SHARED))
    configured = []

    def build(target="all"):
        if not configured:
            configure = subprocess.run(["cmake", "-S", str(ROOT / "examples"), "-B", str(folder),
                                        "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True, env=env)
            assert configure.returncode == 0, configure.stdout[-3000:] + configure.stderr[-3000:]
            configured.append(True)
        result = subprocess.run(["cmake", "--build", str(folder), "--target", target, "--", "-j2"],
                                capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return folder if target == "all" else folder / target

    return build
