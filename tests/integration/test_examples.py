"""The bundled example: its model is reproducible from its training script, it builds and runs,
and the README's demo works end to end."""

import re
import shutil
import subprocess

import pytest

from conftest import ROOT
from elf_symbols import assert_no_heap_or_exceptions

EXAMPLE = ROOT / "examples" / "hello_world"


def test_sine_model_is_reproducible(tmp_path):
    out = tmp_path / "sine.tflite"
    subprocess.run(["/usr/bin/python3", str(EXAMPLE / "train_sine.py"), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == (EXAMPLE / "sine_int8.tflite").read_bytes(), \
        "examples/hello_world/sine_int8.tflite is not what train_sine.py writes: regenerate and commit it"


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_hello_world_builds_and_runs(example_build):
    """Every example of examples/CMakeLists.txt builds (the folder the other example tests share);
    hello_world runs."""
    result = subprocess.run([str(example_build() / "hello_world" / "hello_world")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "max |error|" in result.stdout


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_every_build_step_of_the_examples_belongs_to_one_target(example_build):
    """A custom command (a train.py, a tinynet convert) whose outputs two targets list is copied into
    both targets' Makefiles: under -j the two copies run at once and one reads a file the other is
    rewriting (the digits example failed CI so, at random). Each command line appears in one target."""
    folder = example_build()
    owners = {}
    for make in folder.glob("*/CMakeFiles/*.dir/build.make"):
        for line in make.read_text().splitlines():
            if line.startswith("\tcd ") and ("train.py" in line or "scripts/tinynet" in line):
                owners.setdefault(line.strip(), set()).add(make.parent.name)
    assert any("train.py" in command for command in owners), "no training step found: the scan reads nothing"
    shared = {command[:160]: sorted(targets) for command, targets in owners.items() if len(targets) > 1}
    assert not shared, f"build steps in more than one target (give them one add_custom_target): {shared}"


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_demo_runs(tmp_path):
    """The README's main job: the accuracy the C++ program measures on the host (and on the
    Cortex-M4) is the pruned-int8 accuracy the generator's --eval computed with the numpy
    reference, for both digits networks."""
    pytest.importorskip("sklearn", reason="python3-sklearn is not installed")
    result = subprocess.run([str(ROOT / "scripts" / "demo")], capture_output=True, text=True, timeout=900)
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-2000:]
    evaluated = re.findall(r"accuracy on 397 samples: float ([\d.]+)%, int8 ([\d.]+)%, pruned-int8 ([\d.]+)%", out)
    measured = re.findall(r"accuracy: \d+/397 = ([\d.]+)%", out)
    assert len(evaluated) == 2, out
    assert [e[2] for e in evaluated] == measured[:2]          # host, MLP then CNN
    for float_accuracy, int8_accuracy, _ in evaluated:
        assert float(float_accuracy) > 95 and float(int8_accuracy) > 95
    # the audit per ink band, and the report of the CNN, whose path the demo prints
    assert out.count(" group  support") == 2 and all(g in out for g in ("light", "medium", "heavy"))
    report = ROOT / "build" / "demo" / "digits_report.html"
    assert f"open file://{report} in a browser" in out
    page = report.read_text()
    assert page.count('class="tensor"') >= 5 and 'id="audit-groups"' in page
    if shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm"):
        assert measured[2] == evaluated[0][2]                  # the MLP on the Cortex-M4
        assert_no_heap_or_exceptions(ROOT / "build" / "demo" / "digits" / "digits_m4.elf")
        assert "instructions per image" in out and re.search(r"flash_bytes\s+[\d,]+", out)


@pytest.mark.skipif(not (shutil.which("cmake") and shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="cmake, arm-none-eabi-g++ or qemu-system-arm not installed")
@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m3"])
def test_baremetal_example_builds_with_the_toolchain_file_and_runs(cpu, tmp_path):
    subprocess.run(["cmake", "-S", str(ROOT / "examples" / "baremetal"), "-B", str(tmp_path),
                    f"--toolchain={ROOT / 'cmake' / 'arm-none-eabi.cmake'}", f"-DTINYNET_CORTEX_M_CPU={cpu}"],
                   check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(tmp_path)], check=True, capture_output=True)
    assert_no_heap_or_exceptions(tmp_path / "sine_baremetal.elf")
    result = subprocess.run(["cmake", "--build", str(tmp_path), "--target", "run"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "all predictions within 0.25 of sin(x)" in result.stdout


@pytest.mark.skipif(not shutil.which("arm-none-eabi-g++"), reason="arm-none-eabi-g++ not installed")
def test_the_symbol_check_sees_heap_and_exceptions(tmp_path):
    """The check the Cortex-M image tests use (elf_symbols.py) does find operator new and the
    exception runtime when a program links them."""
    from elf_symbols import forbidden_symbols
    source = tmp_path / "heap.cpp"
    source.write_text("#include <cstdlib>\nint f() { int* p = new int(3); const int v = *p; delete p; return v; }\n"
                      "void* g() { return std::malloc(4); }\n")
    obj = tmp_path / "heap.o"
    subprocess.run(["arm-none-eabi-g++", "-mcpu=cortex-m4", "-mthumb", "-std=c++20", "-O0", "-c", str(source),
                    "-o", str(obj)], check=True)
    found = forbidden_symbols(obj)
    assert "_Znwj" in found and "malloc" in found, found

# Which test builds and runs each folder of examples/ (CI runs them all through scripts/run-tests).
EXAMPLE_TESTS = {
    "hello_world": "test_examples.py",        # test_hello_world_builds_and_runs (examples/CMakeLists.txt)
    "digits": "test_examples.py",             # test_demo_runs (scripts/demo builds examples/digits)
    "baremetal": "test_examples.py",          # test_baremetal_example_builds_with_the_toolchain_file_and_runs
    "keyword_spotting": "test_keyword_spotting.py",
    "cascade": "test_cascade.py",
    "streaming": "test_streaming_example.py",
    "memory_regions": "test_memory_regions.py",
    "vibration": "test_vibration_example.py",
    "gru": "test_gru_example.py",
    "arduino": "test_arduino.py",
    "distillation": "test_distillation.py",
}


def test_every_example_is_built_by_a_test():
    folders = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir())
    missing = [f for f in folders if f not in EXAMPLE_TESTS]
    assert not missing, f"examples/{missing[0]} has no test that builds it: add one and list it in EXAMPLE_TESTS"
    for folder, test_file in EXAMPLE_TESTS.items():
        assert (ROOT / "examples" / folder).is_dir(), f"EXAMPLE_TESTS lists examples/{folder}, which is gone"
        text = (ROOT / "tests" / "integration" / test_file).read_text()
        assert f'"{folder}"' in text or f"examples/{folder}" in text or folder == "digits", (folder, test_file)
    # The CMake examples are in examples/CMakeLists.txt, so `cmake -S examples` builds them all.
    listed = (ROOT / "examples" / "CMakeLists.txt").read_text()
    for folder in ("hello_world", "digits", "keyword_spotting", "cascade", "streaming", "memory_regions",
                   "vibration", "gru"):
        assert f"add_subdirectory({folder})" in listed
