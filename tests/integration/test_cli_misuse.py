"""Every misuse listed in docs/reliability.md ("Misuses and what they give") gives its exit status
and one line `tinynet: error: ...` saying what the table says; names for the generated header
that would not compile are refused or, derived from a file name, mangled into ones that do."""

import pathlib
import re
import shlex
import subprocess

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from conftest import ROOT, TINYNET  # noqa: E402
from tinynet_py.cli.convert_cmd import default_namespace  # noqa: E402
from tinynet_py.emit import CXX_KEYWORDS, namespace_problem  # noqa: E402


def misuse_rows():
    text = (ROOT / "docs" / "reliability.md").read_text()
    table = text[text.index("<!-- misuse:begin -->"):text.index("<!-- misuse:end -->")]
    rows = []
    for line in table.splitlines():
        m = re.fullmatch(r"\| `(tinynet [^`]*)` \| (\d+) \| `(.*)` \|", line.strip())
        if m:
            rows.append((m.group(1), int(m.group(2)), m.group(3)))
    return rows


ROWS = misuse_rows()


def test_the_table_is_there():
    assert len(ROWS) >= 15


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("misuse")
    rng = np.random.default_rng(3)
    w = rng.normal(size=(3, 4)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
                              [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(d / "float.onnx"))
    calib = rng.normal(size=(16, 4)).astype(np.float32)
    np.savez(d / "calib.npz", x=calib)
    np.save(d / "calib.npy", calib[:1])
    np.savez(d / "noy.npz", x=calib)
    np.save(d / "x5.npy", np.zeros(5, np.float32))
    np.save(d / "x16.npy", np.zeros(4, np.int16))
    proc = subprocess.run([str(TINYNET), "convert", "float.onnx", "--quantize", "calib.npz", "--save-tflite",
                           "int8.tflite", "-o", "int8.hpp"], cwd=d, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return d


@pytest.mark.parametrize("command,status,says", ROWS, ids=[r[0] for r in ROWS])
def test_documented_misuse(folder, command, status, says):
    argv = shlex.split(command)
    proc = subprocess.run([str(TINYNET)] + argv[1:], cwd=folder, capture_output=True, text=True)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == status, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("tinynet: error: "), proc.stderr
    assert says in lines[0]
    assert not (folder / "m.hpp").exists()


@pytest.mark.parametrize("name", ["namespace", "int", "class", "and", "co_await", "std", "tinynet",
                                  "posix", "__x", "_X", "_x", "a__b", "kws::_Y", "kws::tinynet", "2d", "a-b", ""])
def test_bad_namespace_names_are_refused(name):
    assert namespace_problem(name)


@pytest.mark.parametrize("name", ["kws", "kws::v2", "model_8bit", "Sine", "class_model"])
def test_good_namespace_names_pass(name):
    assert namespace_problem(name) is None


@pytest.mark.parametrize("file,expected", [("class.onnx", "class_model"), ("8bit.tflite", "model_8bit"),
                                           ("__x.onnx", "x"), ("_X.tflite", "X"), ("std.tflite", "std_model"),
                                           ("my model (v2).tflite", "my_model_v2"), ("tinynet.onnx", "tinynet_model"),
                                           ("___.onnx", "model")])
def test_default_names_are_mangled_into_valid_ones(file, expected):
    assert default_namespace(pathlib.Path("/some/where") / file) == expected
    assert namespace_problem(expected) is None


def test_every_keyword_is_refused_and_a_mangled_keyword_compiles(folder, tmp_path):
    assert {"class", "namespace", "int", "requires", "co_yield", "xor_eq"} <= CXX_KEYWORDS
    model = tmp_path / "class.onnx"
    model.write_bytes((folder / "float.onnx").read_bytes())
    proc = subprocess.run([str(TINYNET), "convert", str(model), "-o", str(tmp_path / "c.hpp")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    source = tmp_path / "use.cpp"
    source.write_text('#include "c.hpp"\nint main() { return static_cast<int>(class_model::network::arena_bytes) > 0 ? 0 : 1; }\n')
    proc = subprocess.run(["g++", "-std=c++20", "-fsyntax-only", "-Wall", "-Werror", f"-I{ROOT / 'include'}",
                           f"-I{tmp_path}", str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
