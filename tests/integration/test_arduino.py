"""tinynet as an Arduino library and a PlatformIO library.

- scripts/arduino-library lays out the Arduino library (root header in src/, library.properties,
  the classify example with its generated model header) as a folder and a zip, atomically;
- the classify sketch builds through the real Arduino build pipeline (arduino-builder, with the stub
  tinynet:arm platform of examples/arduino/platform), runs under QEMU, and prints what the numpy
  reference interpreter computes for the same inputs; its image links no heap or exception support;
- library.json (PlatformIO) is valid and points at include/.
"""

import importlib.machinery
import importlib.util
import json
import re
import shutil
import subprocess
import zipfile

import numpy as np
import pytest

from conftest import ROOT
from elf_symbols import assert_no_heap_or_exceptions
from tinynet_py import cortex_m
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import parse_model

SCRIPT = ROOT / "scripts" / "arduino-library"
PLATFORM = ROOT / "examples" / "arduino" / "platform"
SINE_MODEL = ROOT / "examples" / "hello_world" / "sine_int8.tflite"
# library.properties fields the Arduino library specification (1.5 format, rev. 2.2) requires.
REQUIRED_FIELDS = ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url",
                   "architectures")
CATEGORIES = {"Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
              "Data Storage", "Data Processing", "Other"}


def properties(path):
    result = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            result[key.strip()] = value.strip()
    return result


def cmake_version():
    return re.search(r"project\(tinynet VERSION ([\d.]+)", (ROOT / "CMakeLists.txt").read_text()).group(1)


def make_library(out_dir, *extra):
    result = subprocess.run([str(SCRIPT), str(out_dir), *extra], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return out_dir / "tinynet"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return make_library(tmp_path_factory.mktemp("arduino-library"))


def test_library_properties_fields():
    props = properties(ROOT / "library.properties")
    for field in REQUIRED_FIELDS:
        assert props.get(field), f"library.properties has no {field}"
    assert props["name"] == "tinynet"
    architectures = props["architectures"].split(",")
    assert "*" not in architectures and "avr" not in architectures, "AVR cores cannot build C++20"
    assert {"samd", "rp2040", "stm32", "mbed_nano", "renesas_uno", "arm"} <= set(architectures)
    # No public address yet: a reserved, never-resolving name rather than a guessed one.
    assert re.fullmatch(r"https://[a-z0-9.-]+\.invalid/", props["url"]), props["url"]
    assert props["includes"] == "tinynet.h"
    assert props["category"] in CATEGORIES
    assert props["version"] == cmake_version(), "library.properties and CMakeLists.txt disagree on the version"


def test_platformio_library_json():
    manifest = json.loads((ROOT / "library.json").read_text())
    assert manifest["name"] == "tinynet"
    assert manifest["version"] == cmake_version()
    assert manifest["build"]["includeDir"] == "include"
    assert (ROOT / manifest["build"]["includeDir"] / "tinynet" / "tinynet.hpp").is_file()
    assert manifest["build"]["srcFilter"] == ["-<*>"], "header-only: PlatformIO must build no sources"
    for header in manifest["headers"]:
        assert (ROOT / "include" / header).is_file(), header


def test_arduino_library_layout(library):
    src = library / "src"
    root_header = (src / "tinynet.h").read_text()
    assert "#include <tinynet/tinynet.hpp>" in root_header
    headers = sorted(p.relative_to(ROOT / "include").as_posix() for p in (ROOT / "include").rglob("*") if p.is_file())
    copied = sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())
    assert copied == headers
    assert properties(library / "library.properties") == properties(ROOT / "library.properties")
    example = library / "examples" / "classify"
    sketch = (example / "classify.ino").read_text()
    first_include = re.search(r"^#include\s+(\S+)", sketch, re.M).group(1)
    assert first_include == "<tinynet.h>", "a sketch must include the root header first (library discovery)"
    model_header = (example / "sine_model.h").read_text()
    assert "namespace sine" in model_header and "sine_int8.tflite" in model_header

    # The zip holds the same files under tinynet/.
    with zipfile.ZipFile(library.parent / "tinynet.zip") as archive:
        names = sorted(n for n in archive.namelist() if not n.endswith("/"))
        assert all(n.startswith("tinynet/") for n in archive.namelist())
        assert archive.read("tinynet/src/tinynet.h").decode() == root_header
    files = sorted("tinynet/" + p.relative_to(library).as_posix() for p in library.rglob("*") if p.is_file())
    assert names == files
    assert "tinynet/library.properties" in names and "tinynet/examples/classify/classify.ino" in names


def load_script():
    loader = importlib.machinery.SourceFileLoader("arduino_library", str(SCRIPT))
    spec = importlib.util.spec_from_loader("arduino_library", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_arduino_library_failure_leaves_the_previous_output(tmp_path, capsys):
    out = tmp_path / "out"
    make_library(out, "--no-zip")
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    script = load_script()
    bad_model = tmp_path / "bad.tflite"
    bad_model.write_bytes(b"not a flatbuffer")
    script.EXAMPLE_MODEL = str(bad_model)
    assert script.main([str(out)]) == 1
    assert "convert failed" in capsys.readouterr().err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before, \
        "a failed run must leave the output folder as it was (no half-written library, no temporary folder)"


def test_root_header_survives_arduino_macros(tmp_path):
    """AVR's Arduino.h defines min, max, abs and round as macros, which break standard headers:
    tinynet.h sets them aside while tinynet is included and gives them back afterwards."""
    compiler = shutil.which("g++")
    if compiler is None:
        pytest.skip("g++ not installed")
    source = tmp_path / "macros.cpp"
    source.write_text(
        "#define min(a, b) ((a) < (b) ? (a) : (b))\n"
        "#define max(a, b) ((a) > (b) ? (a) : (b))\n"
        "#define abs(x) ((x) > 0 ? (x) : -(x))\n"
        "#define round(x) ((x) >= 0 ? (long)((x) + 0.5) : (long)((x) - 0.5))\n"
        "#include <tinynet.h>\n"
        "static_assert(min(2, 3) == 2 && max(2, 3) == 3 && abs(-4) == 4 && round(1.5) == 2);\n"
        "int main() { return 0; }\n")
    result = subprocess.run([compiler, "-std=c++20", "-fsyntax-only", "-Wall", "-Werror", f"-I{ROOT / 'include'}",
                             str(source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def reference_outputs(q_inputs):
    interpreter = Interpreter(parse_model(SINE_MODEL.read_bytes(), str(SINE_MODEL)))
    return [int(interpreter.invoke([np.array([q], np.int8)])[0].reshape(-1)[0]) for q in q_inputs]


def quantized_sweep(steps):
    """The sketch's inputs, computed here: x = 2 pi i / 16 in float32, quantized with the model's
    input scale and zero point, rounded half away from zero (lroundf), saturated to int8."""
    model = parse_model(SINE_MODEL.read_bytes(), str(SINE_MODEL))
    tensor = model.tensors[model.inputs[0]]
    scale, zero_point = np.float32(tensor.scale[0]), int(tensor.zero_point[0])
    result = []
    for i in steps:
        x = np.float32(6.2831853) * np.float32(i) / np.float32(16.0)
        ratio = float(np.float32(x / scale))
        q = int(np.sign(ratio) * np.floor(abs(ratio) + 0.5)) + zero_point
        result.append(max(-128, min(127, q)))
    return result


ARM_TOOLS = ("arduino-builder", "arduino-ctags", "arm-none-eabi-g++", "qemu-system-arm")


@pytest.mark.skipif(any(shutil.which(t) is None for t in ARM_TOOLS),
                    reason="needs arduino-builder and arduino-ctags (Debian packages arduino-builder, arduino-ctags), "
                           "arm-none-eabi-g++ and qemu-system-arm: run scripts/setup")
@pytest.mark.parametrize("board,machine", [("mps2_an386", "mps2-an386"), ("mps2_an385", "mps2-an385"),
                                           ("mps2_an500", "mps2-an500")])
def test_classify_sketch_builds_with_arduino_builder_and_runs(library, board, machine, tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    sketch = library / "examples" / "classify" / "classify.ino"
    command = ["arduino-builder", "-compile", "-hardware", str(PLATFORM), "-tools", str(PLATFORM),
               "-libraries", str(library.parent), "-fqbn", f"tinynet:arm:{board}", "-build-path", str(build),
               "-warnings", "all", str(sketch)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    # The library was found through its root header, and compiled with the platform's C++20.
    assert (build / "libraries" / "tinynet").is_dir() or "tinynet" in result.stdout, result.stdout[-2000:]
    assert "warning:" not in result.stdout + result.stderr, result.stdout[-4000:] + result.stderr[-4000:]
    elf = build / "classify.ino.elf"
    assert elf.is_file()

    assert_no_heap_or_exceptions(elf)

    run = subprocess.run(cortex_m.qemu_command(elf, machine=machine), stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = re.findall(r"^step (\d+): x=([\d.]+) q_in=(-?\d+) q_out=(-?\d+) y=(-?[\d.]+) class=(\w+)$",
                       run.stdout, re.M)
    assert len(lines) == 16, run.stdout          # boards.txt: build.loops=16
    steps = [int(line[0]) for line in lines]
    assert steps == list(range(16))
    q_in = [int(line[2]) for line in lines]
    q_out = [int(line[3]) for line in lines]
    assert q_in == quantized_sweep(steps)
    assert q_out == reference_outputs(q_in), "the sketch's outputs differ from the numpy reference interpreter's"
    model = parse_model(SINE_MODEL.read_bytes(), str(SINE_MODEL))
    out = model.tensors[model.outputs[0]]
    for (_, _, _, q, y, label) in lines:
        expected = (int(q) - int(out.zero_point[0])) * float(out.scale[0])
        assert abs(float(y) - expected) <= 0.0015, (y, expected)
        assert label == ("upper" if expected >= 0 else "lower")


@pytest.mark.skipif(any(shutil.which(t) is None for t in ARM_TOOLS),
                    reason="needs arduino-builder, arduino-ctags, arm-none-eabi-g++ and qemu-system-arm: run scripts/setup")
def test_readme_arduino_sketch_builds_and_runs(library, tmp_path):
    """The sketch in README.md's Arduino section, as written there, with the stub platform."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("\n## Arduino\n"):]
    code = re.search(r"```cpp\n(.*?)```", section, re.S).group(1)
    sketch_dir = tmp_path / "readme_sketch"
    sketch_dir.mkdir()
    (sketch_dir / "readme_sketch.ino").write_text(code)
    shutil.copy(library / "examples" / "classify" / "sine_model.h", sketch_dir)
    build = tmp_path / "build"
    build.mkdir()
    result = subprocess.run(["arduino-builder", "-compile", "-hardware", str(PLATFORM), "-tools", str(PLATFORM),
                             "-libraries", str(library.parent), "-fqbn", "tinynet:arm:mps2_an386",
                             "-build-path", str(build), str(sketch_dir / "readme_sketch.ino")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    run = subprocess.run(cortex_m.qemu_command(build / "readme_sketch.ino.elf", machine="mps2-an386"),
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    q_in = int(re.search(r"net\.input\(\)\[0\] = (-?\d+);", code).group(1))
    assert run.stdout.split() == [str(reference_outputs([q_in])[0])] * 16


def test_package_readme_is_written_for_board_users(library):
    """The zip's README is its own: no paths of the repository that are not in the zip, no setup
    for the repository's tests; it says how to install, the C++20 flag, and which cores can."""
    text = (library / "README.md").read_text()
    assert text == (ROOT / "examples" / "arduino" / "library" / "README.md").read_text()
    for absent in ("../shared", "sudo", "docs/", "scripts/setup", "scripts/run-tests", "tests/"):
        assert absent not in text, absent
    for present in ("Add .ZIP Library", "#include <tinynet.h>", "compiler.cpp.extra_flags=-std=gnu++20",
                    "GCC 11", "AVR", "| no |", "| yes |"):
        assert present in text, present
    table = {m.group(1) for m in re.finditer(r"`([a-z0-9_]+)`", text)}
    for arch in properties(ROOT / "library.properties")["architectures"].split(","):
        assert arch == "arm" or arch in table, f"the README does not say whether {arch} cores can build tinynet"


@pytest.mark.skipif(any(shutil.which(t) is None for t in ARM_TOOLS),
                    reason="needs arduino-builder, arduino-ctags, arm-none-eabi-g++ and qemu-system-arm: run scripts/setup")
def test_package_readme_sketch_builds_and_runs(library, tmp_path):
    """The sketch in the zip's README, as written there (float in, float out), on the sine model
    converted as its step 1 says, built with the stub platform and run under QEMU."""
    text = (library / "README.md").read_text()
    code = re.search(r"```cpp\n(.*?)```", text, re.S).group(1)
    sketch_dir = tmp_path / "pkg_sketch"
    sketch_dir.mkdir()
    (sketch_dir / "pkg_sketch.ino").write_text(code)
    convert = subprocess.run([str(ROOT / "scripts" / "tinynet"), "convert", str(SINE_MODEL), "-o",
                              str(sketch_dir / "my_model.h"), "--name", "my_model"], capture_output=True, text=True)
    assert convert.returncode == 0, convert.stderr
    build = tmp_path / "build"
    build.mkdir()
    result = subprocess.run(["arduino-builder", "-compile", "-hardware", str(PLATFORM), "-tools", str(PLATFORM),
                             "-libraries", str(library.parent), "-fqbn", "tinynet:arm:mps2_an386",
                             "-build-path", str(build), str(sketch_dir / "pkg_sketch.ino")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    run = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-display", "none", "-monitor", "none",
                          "-serial", "none", "-semihosting-config", "enable=on,target=native,chardev=out",
                          "-chardev", "stdio,id=out", "-kernel", str(build / "pkg_sketch.ino.elf")],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    # features are all 0.0: quantized to the input's zero point; the output dequantized.
    model = parse_model(SINE_MODEL.read_bytes(), str(SINE_MODEL))
    tin, tout = model.tensors[model.inputs[0]], model.tensors[model.outputs[0]]
    q_out = reference_outputs([int(tin.zero_point[0])])[0]
    expected = (q_out - int(tout.zero_point[0])) * float(tout.scale[0])
    printed = [float(v) for v in run.stdout.split()]
    assert len(printed) == 16 and all(abs(v - expected) <= 0.006 for v in printed), (printed, expected)
