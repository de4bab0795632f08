"""Every code block of README.md is compiled or run by a test, or listed here as an illustration
with the reason. A new block fails test_every_block_is_accounted_for until it is added to BLOCKS.
The blocks this file runs itself are the kws commands and the C++ that uses their header (about
half a minute, most of it compiling the kws runner); the others name the test that covers them,
and the test checks that it exists."""

import os
import re
import subprocess

import pytest

from conftest import ROOT, SHARED, shared_path

README = ROOT / "README.md"

# first line of the block -> how it is covered:
#   ("here", test name in this file)
#   ("test", "path::function"): another test compiles or runs it (checked to exist)
#   ("illustration", reason)
BLOCKS = {
    "scripts/setup && scripts/demo     # install the toolchain, then train, compress, convert and run a digits model":
        ("test", "tests/integration/test_examples.py::test_demo_runs"),   # and scripts/run-tests: .ci/run
    "scripts/run-tests --quick   # g++ only: doctest unit tests, compile-fail tests, a conformance subset":
        ("test", "tests/integration/test_run_tests.py::test_the_fast_tier"),   # the full run is .ci/run itself
    "#include <tinynet/tinynet.hpp>": ("test", "tests/cpp/test_readme_example.cpp::the README's hand-written network runs"),
    "error: static assertion failed: tinynet: the output tensor's shape is not the shape this layer":
        ("illustration", "compiler output; tests/compile_fail/conv_output_shape.cpp checks the message"),
    "# what is in the model: per-layer shapes, MACs, weight and activation bytes, flash/arena estimates":
        ("here", "test_kws_commands_and_the_code_using_their_header"),
    "#include <algorithm>": ("here", "test_kws_commands_and_the_code_using_their_header"),
    "tinynet: error: rnn.tflite: op #0 UNIDIRECTIONAL_SEQUENCE_RNN is not supported by tinynet (supported ops: ABS, ADD, ...)":
        ("illustration", "tool output, shortened; tests/generator/test_errors.py::test_unsupported_op_synthetic "
                         "checks the real line"),
    "# post-training int8 quantization from calibration inputs (calib.npz: array 'x')":
        ("illustration", "flag tour on the demo's files (digits_mlp.pkl, calib.npz: scripts/demo makes them and runs "
                         "convert --quantize --prune-synapses --prune-scope global --eval); the bench line compiles ad01 "
                         "unrolled for minutes, too slow for CI; each flag is tested in test_compression.py"),
    "scripts/tinynet report kws_ref_model.tflite -o kws.html                     # summary, arena plan, MACs, weights":
        ("test", "tests/integration/test_report.py::test_report_renders_in_headless_chromium"),  # --target: ..._as_bench_does
    "scripts/tinynet run cnn.onnx --quantize calib.npz --input image_nchw.npy --output scores.npy":
        ("test", "tests/generator/test_data_layout.py::test_float_in_float_out_on_a_quantized_model"),
    "scripts/tinynet run ../shared/conformance/tflm-ops/svdf/int8_rank1_b1_in8_u3_m4_3_invokes/model.tflite \\":
        ("here", "test_svdf_invokes_command"),
    "static tinynet::SharedArena<wake::network, command::network> memory;   // .bss: the larger arena":
        ("test", "tests/integration/test_cascade.py::test_cascade_runs_the_second_stage_only_on_words_and_shares_one_arena"),
    "#include <tinynet.h>": ("test", "tests/integration/test_arduino.py::test_readme_arduino_sketch_builds_and_runs"),
    "[env:myboard]": ("illustration", "PlatformIO is not installed here; library.json is checked by "
                                      "tests/integration/test_arduino.py::test_platformio_library_json"),
    "cmake -S tinynet -B build/tinynet                                # a few seconds; nothing to compile":
        ("test", "tests/package/check.cmake::CMAKE_PREFIX_PATH"),
    "cmake -S examples/baremetal -B build/baremetal --toolchain $PWD/cmake/arm-none-eabi.cmake \\":
        ("test", "tests/integration/test_examples.py::test_baremetal_example_builds_with_the_toolchain_file_and_runs"),
}


def readme_blocks():
    """(first line, language, body) of every fenced block of README.md."""
    text = README.read_text()
    return [(m.group(2).splitlines()[0], m.group(1), m.group(2))
            for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)]


def block(first_line):
    return next(body for first, _, body in readme_blocks() if first == first_line)


def test_every_block_is_accounted_for():
    firsts = [first for first, _, _ in readme_blocks()]
    missing = [f for f in firsts if f not in BLOCKS]
    assert not missing, f"README blocks no test covers (add them to BLOCKS in {__file__}): {missing}"
    gone = [f for f in BLOCKS if f not in firsts]
    assert not gone, f"BLOCKS lists blocks the README no longer has: {gone}"


@pytest.mark.parametrize("first_line", [f for f, (kind, _) in BLOCKS.items() if kind == "test"])
def test_the_covering_test_exists(first_line):
    path, _, name = BLOCKS[first_line][1].partition("::")
    text = (ROOT / path).read_text()
    assert name in text, f"{path} has no {name!r}"


@pytest.mark.parametrize("first_line", [f for f, (kind, _) in BLOCKS.items() if kind == "here"])
def test_blocks_run_here_are_run(first_line):
    assert BLOCKS[first_line][1] in globals()


def test_illustrations_say_why():
    for first, (kind, reason) in BLOCKS.items():
        if kind == "illustration":
            assert len(reason) > 20, first


def test_kws_commands_and_the_code_using_their_header(tmp_path):
    """The kws commands as written (paths relative to the repository, ../shared beside it), then
    the C++ that uses the header they wrote, compiled against it."""
    shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "scripts").symlink_to(ROOT / "scripts")
    (tmp_path / "shared").symlink_to(SHARED.resolve())
    commands = block("# what is in the model: per-layer shapes, MACs, weight and activation bytes, "
                     "flash/arena estimates")
    env = dict(os.environ)
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=repo, capture_output=True, text=True,
                          env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "same bytes as TFLM" in proc.stdout
    assert re.search(r"(\d+)/\1 golden inputs match", proc.stdout), proc.stdout[-2000:]
    assert (repo / "kws.hpp").is_file()
    source = repo / "use_kws.cpp"
    source.write_text(block("#include <algorithm>"))
    cxx = os.environ.get("TINYNET_CXX") or "g++"
    compiled = subprocess.run([cxx, "-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-c",
                               f"-I{ROOT / 'include'}", f"-I{repo}", str(source), "-o", str(repo / "use_kws.o")],
                              capture_output=True, text=True, timeout=600)
    assert compiled.returncode == 0, compiled.stderr[-3000:]


def test_svdf_invokes_command(tmp_path):
    """The --invokes command as written: a stateful SVDF invoked 3 times gives TFLM's bytes."""
    shared_path("conformance", "tflm-ops", "svdf", "int8_rank1_b1_in8_u3_m4_3_invokes", "model.tflite")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "scripts").symlink_to(ROOT / "scripts")
    (tmp_path / "shared").symlink_to(SHARED.resolve())
    commands = block("scripts/tinynet run ../shared/conformance/tflm-ops/svdf/int8_rank1_b1_in8_u3_m4_3_invokes/"
                     "model.tflite \\")
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", commands], cwd=repo, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "same bytes as TFLM" in proc.stdout


def test_readme_lists_the_onnx_operators_the_importer_reads():
    pytest.importorskip("numpy")
    from tinynet_py.onnx_import import SUPPORTED_ONNX_OPS
    text = README.read_text()
    listed = text[text.index("<!-- onnx-ops:begin -->") + len("<!-- onnx-ops:begin -->"):text.index("<!-- onnx-ops:end -->")]
    assert [op.strip() for op in listed.split(",")] == list(SUPPORTED_ONNX_OPS)


def test_readme_sparsity_table_is_what_the_script_writes():
    """The table is bench/sparse_fc.py --readme's output from bench/sparse_results.json (the saved
    --sweep model measurements), not typed by hand."""
    pytest.importorskip("numpy")
    import importlib.util
    import json
    spec = importlib.util.spec_from_file_location("sparse_fc", ROOT / "bench" / "sparse_fc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = json.loads((ROOT / "bench" / "sparse_results.json").read_text())
    text = README.read_text()
    begin = text.index("<!-- sparsity-table:begin -->\n") + len("<!-- sparsity-table:begin -->\n")
    assert text[begin:text.index("<!-- sparsity-table:end -->")] == module.readme_table(results) + "\n"


def test_sparse_conv_tables_are_what_the_script_writes():
    """README's and docs/sparsity.md's sparse-convolution tables are bench/sparse_conv.py
    --write-docs's output from bench/sparse_conv_results.json, not typed by hand."""
    pytest.importorskip("numpy")
    import importlib.util
    import json
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("sparse_conv", ROOT / "bench" / "sparse_conv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = json.loads((ROOT / "bench" / "sparse_conv_results.json").read_text())
    for path, expected in ((README, module.markdown(results)),
                           (ROOT / "docs" / "sparsity.md", module.markdown(results) + "\n\n" + module.targets(results))):
        text = path.read_text()
        begin = text.index("<!-- sparse-conv-table:begin -->\n") + len("<!-- sparse-conv-table:begin -->\n")
        assert text[begin:text.index("<!-- sparse-conv-table:end -->")] == expected + "\n", path


def test_prune_accuracy_table_and_headline_are_what_the_script_writes():
    """docs/sparsity.md's accuracy table per pruning pattern and the README's headline are
    bench/prune_accuracy.py --write-docs's output from bench/prune_accuracy_results.json."""
    pytest.importorskip("numpy")
    import importlib.util
    import json
    import sys
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("prune_accuracy", ROOT / "bench" / "prune_accuracy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = json.loads((ROOT / "bench" / "prune_accuracy_results.json").read_text())
    for path, marker, expected in ((ROOT / "docs" / "sparsity.md", "prune-accuracy-table", module.markdown(results)),
                                   (README, "prune-accuracy", module.headline(results))):
        text = path.read_text()
        begin = text.index(f"<!-- {marker}:begin -->\n") + len(f"<!-- {marker}:begin -->\n")
        assert text[begin:text.index(f"<!-- {marker}:end -->")] == expected + "\n", path
