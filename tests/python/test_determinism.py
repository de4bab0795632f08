"""The same model and input give the same output bytes whatever the compiler and optimisation
level: g++ and clang++ at -O0, -O2 and -Os on the host, and arm-none-eabi-g++ at -O0 and -Os on
Cortex-M4 (the -O2 builds are covered by test_cpp_conformance). Every build is compared with
TFLM's golden bytes, for a model of each kind (depthwise/pointwise CNN, residual CNN, MLP)."""

import shutil

import numpy as np
import pytest

from conftest import SHARED, model_for_golden, shared_listing
from tinynet_py import cortex_m, emit, runner
from tinynet_py.tflite import load_model

MODELS = ["kws_ref_model_logits", "pretrainedResnet_quant_logits", "ad01_int8"]
HOST = [(cxx, level) for cxx in ("g++", "clang++") for level in ("-O0", "-O2", "-Os")]


def golden_pair(name, k=4):
    directory = SHARED / "golden" / name
    if not (directory / f"out_{k}.bin").exists():
        pytest.skip(f"no golden pair {k} for {name} under {SHARED}")
    return directory / f"in_{k}.bin", directory / f"out_{k}.bin"


@pytest.mark.parametrize("cxx, level", HOST)
@pytest.mark.parametrize("name", MODELS)
def test_host_compilers_and_levels_agree(name, cxx, level, tmp_path):
    if shutil.which(cxx) is None:
        pytest.skip(f"{cxx} not installed")
    model = load_model(str(model_for_golden(name)))
    inp, want = golden_pair(name)
    binary = runner.build_host(emit.generate_header(model, "m"), "m", 1, 1, cxx=cxx, extra_flags=[level])
    out = tmp_path / "out.bin"
    runner.run_host(binary, [inp], [out])
    assert out.read_bytes() == want.read_bytes(), f"{name} with {cxx} {level} differs from TFLM"


@pytest.mark.parametrize("level", ["-O0", "-Os"])
@pytest.mark.parametrize("name", MODELS)
def test_cortex_m4_levels_agree(name, level, tmp_path):
    missing = cortex_m.available("cortex-m4")
    if missing:
        pytest.skip(missing)
    model = load_model(str(model_for_golden(name)))
    inp, want = golden_pair(name)
    elf = runner.build_cortex_m(emit.generate_header(model, "m"), "m", model, "cortex-m4", extra_flags=[level])
    out = tmp_path / "out.bin"
    runner.run_cortex_m(elf, "cortex-m4", [inp], [out], model)
    assert out.read_bytes() == want.read_bytes(), f"{name} on Cortex-M4 at {level} differs from TFLM"
