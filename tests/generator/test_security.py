"""Untrusted model files (issue 19, docs/reliability.md "Security"): no code from a model runs in the
generator, no model text gets into the header outside escaped comments, and ONNX external data
stays inside the model's folder.

The hostile files are built here (tests/fuzz/hostile_corpus.py); the pickles are shown to be
hostile (plain pickle.loads of them does create the marker file) before tinynet is shown to
refuse them.
"""

import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

from conftest import ROOT, run_tinynet

sys.path.insert(0, str(ROOT / "tests" / "fuzz"))
import hostile_corpus as hc  # noqa: E402

from tinynet_py.errors import ModelError  # noqa: E402
from tinynet_py.safe_text import escape  # noqa: E402

CXX = os.environ.get("CXX", "g++")
STRICT = ["-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror", f"-I{ROOT / 'include'}"]
# Pickles whose code runs on this machine under plain pickle.loads (nt is Windows-only, numpy.load
# needs a pickle file to load, __import__ alone has no side effect, _codecs.encode with rot13 neither).
EXECUTES = {"os.system", "posix.system", "subprocess.Popen", "subprocess.check_call", "builtins.eval",
            "builtins.exec", "__builtin__.eval", "getattr chain", "numpy.testing",
            "STACK_GLOBAL posix.system"}


# ---- 1. pickles ----------------------------------------------------------------------------------

def _fitted_mlp(regressor=False):
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    rng = np.random.default_rng(0)
    x = rng.random((60, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if regressor:
            return MLPRegressor((6,), max_iter=30, random_state=0).fit(x, x[:, :2])
        return MLPClassifier((6,), max_iter=30, random_state=0).fit(x, np.arange(60) % 3)


@pytest.fixture(scope="module")
def hostile_pickles(tmp_path_factory):
    """[(label, path, marker, refused global)], each pickle checked to be really hostile."""
    pytest.importorskip("sklearn")
    folder = tmp_path_factory.mktemp("pickles")
    cases = []
    for k in range(len(hc.hostile_pickles(folder / "marker"))):
        marker = folder / f"marker{k}"
        label, data, refused = hc.hostile_pickles(marker)[k]
        (folder / f"evil{k}.pkl").write_bytes(data)
        cases.append((label, folder / f"evil{k}.pkl", marker, refused))
    marker = folder / "marker_nested"
    (folder / "nested.pkl").write_bytes(hc.nested_hostile_pickle(marker, _fitted_mlp()))
    cases.append(("nested in a fitted MLPClassifier", folder / "nested.pkl", marker, "posix.system"))
    # The corpus is real: plain pickle.loads runs each payload (in a child process) and the marker appears.
    executing = [(p, m) for label, p, m, _ in cases if label in EXECUTES or label.startswith("nested")]
    subprocess.run([sys.executable, "-c", "import pickle, sys\nfor p in sys.argv[1:]:\n try: pickle.loads("
                    "open(p, 'rb').read())\n except Exception: pass"] + [str(p) for p, _ in executing],
                   capture_output=True, timeout=120, cwd=folder)
    for p, m in executing:
        assert m.exists(), f"{p}: the hostile pickle did not run its payload under plain pickle.loads"
        m.unlink()
    return cases


@pytest.mark.parametrize("command", ["inspect", "convert", "run"])
def test_hostile_pickles_are_refused_without_running_code(hostile_pickles, command, tmp_path):
    for label, path, marker, refused in hostile_pickles:
        extra = {"inspect": [], "convert": ["-o", tmp_path / "out.hpp"],
                 "run": ["--input", tmp_path / "in.bin", "--output", tmp_path / "out.bin"]}[command]
        result = run_tinynet(command, path, *extra)
        lines = result.stderr.splitlines()
        assert result.returncode == 2, (label, result.returncode, result.stderr)
        assert len(lines) == 1 and lines[0].startswith(f"tinynet: error: {path}: "), (label, result.stderr)
        if refused:
            assert f"refused to unpickle '{refused}'" in lines[0], (label, lines[0])
        assert not marker.exists(), f"{label}: the payload ran"
        assert not (tmp_path / "out.hpp").exists() and not (tmp_path / "out.bin").exists()


def test_every_pickle_protocol_of_mlps_loads(tmp_path):
    pytest.importorskip("sklearn")
    from tinynet_py.sklearn_import import from_estimator, unpickle_mlp
    for estimator in (_fitted_mlp(), _fitted_mlp(regressor=True)):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            loaded = unpickle_mlp(pickle.dumps(estimator, protocol=protocol), "m.pkl")
            assert type(loaded) is type(estimator)
            for a, b in zip(loaded.coefs_ + loaded.intercepts_, estimator.coefs_ + estimator.intercepts_):
                assert np.array_equal(a, b)
            assert len(from_estimator(loaded).ops) >= 2


def test_allowed_globals_cannot_be_misused():
    from tinynet_py.sklearn_import import unpickle_mlp
    # copyreg._reconstructor with a class outside the list, and with a base other than object
    for data in (b"ccopyreg\n_reconstructor\n(cposix\nsystem\ncbuiltins\nobject\nNtR.",
                 b"ccopyreg\n_reconstructor\n(csklearn.neural_network._multilayer_perceptron\nMLPClassifier\n"
                 b"cnumpy\nndarray\nNtR."):
        with pytest.raises(ModelError):
            unpickle_mlp(data, "m.pkl")


def test_digits_mlp_still_loads_and_converts(tmp_path):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier
    x, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier((32,), max_iter=20, random_state=0).fit(x / 16.0, y)
    path = tmp_path / "digits_mlp.pkl"
    path.write_bytes(pickle.dumps(mlp))
    result = run_tinynet("convert", path, "-o", tmp_path / "digits.hpp")
    assert result.returncode == 0, result.stderr
    header = (tmp_path / "digits.hpp").read_text()
    assert header.startswith("// Generated by tinynet from digits_mlp.pkl;")
    assert str(tmp_path) not in header        # the file's name, not the build machine's path
    result = run_tinynet("inspect", path)
    assert result.returncode == 0 and "FULLY_CONNECTED" in result.stdout, result.stderr


@pytest.mark.parametrize("command", ["inspect", "convert", "run", "bench"])
def test_help_says_how_pickles_are_read(command):
    result = run_tinynet(command, "--help")
    text = " ".join(result.stdout.split())
    assert result.returncode == 0 and "restricted unpickler" in text and "--allow-external-data" in text


# ---- 2. model text in the header -----------------------------------------------------------------

def test_escape_properties():
    samples = [chr(c) for c in range(0x300)] + ["\u2028", "\u202e", "\U0001F600", "\udc80", "??/", "*/", "a\\",
                                                  "\\", "a\\ ", "*/*/", "???", "x" * 1000] + hc.HOSTILE_NAMES
    for s in samples:
        e = escape(s)
        assert all(0x20 <= ord(c) < 0x7F for c in e), repr(s)
        assert not e.endswith("\\") and "*/" not in e and "??" not in e, (repr(s), e)
        assert escape(e, limit=None) == e, repr(s)
        assert len(escape(s, limit=None, keep_unicode=True).splitlines()) <= 1, repr(s)
    assert escape("a" * 500).endswith("...(500 characters)")


def test_escaped_string_literals_hold_the_original_bytes(tmp_path):
    """escape(literal=True) inside "..." is a C++ string literal of exactly the UTF-8 bytes of the
    text: the compiler, not this test, decodes it."""
    texts = ["".join(chr(c) for c in range(1, 0x80)), "caf\u00e9 \U0001F600 \u2028", "end\\", '"q"??/??=',
             "*/ /* x */", "\x00nul"] + hc.HOSTILE_NAMES[:-1]
    sizes = ", ".join(f"sizeof(texts_{k})" for k in range(len(texts)))
    source = "#include <cstdio>\n" + "".join(
        f'static const char texts_{k}[] = "{escape(t, limit=None, literal=True)}";\n' for k, t in enumerate(texts))
    source += f"static const char* const all[] = {{{', '.join(f'texts_{k}' for k in range(len(texts)))}}};\n"
    source += f"static const unsigned long sizes[] = {{{sizes}}};\n"
    source += ("int main() { for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); ++i) {\n"
               "  for (unsigned long j = 0; j + 1 < sizes[i]; ++j) std::printf(\"%02x\", (unsigned char)all[i][j]);\n"
               "  std::printf(\"\\n\"); } }\n")
    (tmp_path / "t.cpp").write_text(source)
    build = subprocess.run([CXX, "-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-o", tmp_path / "t",
                            tmp_path / "t.cpp"], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    lines = subprocess.run([tmp_path / "t"], capture_output=True, text=True).stdout.splitlines()
    assert lines == [t.encode("utf-8").hex() for t in texts]


def _check_header(header_path, tmp_path, benign_header_path):
    text = header_path.read_bytes().decode("ascii")       # nothing but ASCII
    lines = text.split("\n")
    assert all(c == "\n" or 0x20 <= ord(c) < 0x7F for c in text), "control character in the header"
    assert not any(line.endswith("\\") for line in lines), "a line splice"
    assert any(hc.MARKER in line for line in lines)        # the names are there (escaped)...
    for line in lines:                                     # ...and only in comments
        if hc.MARKER in line or "injected" in line:
            assert line.lstrip().startswith("//"), line
    # Without comments, the header holds no model text at all...
    stripped = subprocess.run([CXX, "-std=c++20", "-fpreprocessed", "-dD", "-E", "-P", "-x", "c++", header_path],
                              capture_output=True, text=True)
    assert stripped.returncode == 0, stripped.stderr
    assert hc.MARKER not in stripped.stdout and "injected" not in stripped.stdout
    # ...and every line outside comments is the one the emitter writes for the same model with plain names.
    code = lambda ls: [line for line in ls if not line.lstrip().startswith("//")]
    assert code(lines) == code(benign_header_path.read_text().split("\n"))
    # It compiles (g++ and clang++, warnings as errors), included from a translation unit.
    (tmp_path / "use.cpp").write_text(f'#include "{header_path.name}"\nint main() {{ return 0; }}\n')
    for cxx in {CXX, "clang++"}:
        if subprocess.run(["which", cxx], capture_output=True).returncode:
            continue
        build = subprocess.run([cxx, *STRICT, "-fsyntax-only", f"-I{header_path.parent}", tmp_path / "use.cpp"],
                               capture_output=True, text=True)
        assert build.returncode == 0, build.stderr


BENIGN = [f"n{k}" for k in range(len(hc.HOSTILE_NAMES))]


def test_hostile_tflite_names_stay_in_comments(tmp_path):
    for kind, names in (("benign", BENIGN), ("hostile", hc.HOSTILE_NAMES)):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "m.tflite").write_bytes(hc.tflite_with_names(names))
        result = run_tinynet("convert", tmp_path / kind / "m.tflite", "-o", tmp_path / kind / "m.hpp")
        assert result.returncode == 0, result.stderr
    _check_header(tmp_path / "hostile" / "m.hpp", tmp_path, tmp_path / "benign" / "m.hpp")
    result = run_tinynet("inspect", tmp_path / "hostile" / "m.tflite")   # the terminal gets no control characters
    assert result.returncode == 0 and not any(ord(c) < 0x20 and c != "\n" for c in result.stdout)


def test_hostile_onnx_names_stay_in_comments(tmp_path):
    onnx = pytest.importorskip("onnx")
    for kind, names in (("benign", BENIGN), ("hostile", hc.HOSTILE_NAMES)):
        (tmp_path / kind).mkdir()
        onnx.save(hc.onnx_with_names(names), tmp_path / kind / "m.onnx")
        result = run_tinynet("convert", tmp_path / kind / "m.onnx", "-o", tmp_path / kind / "m.hpp")
        assert result.returncode == 0, result.stderr
    _check_header(tmp_path / "hostile" / "m.hpp", tmp_path, tmp_path / "benign" / "m.hpp")


def test_header_names_the_file_not_the_path(tmp_path):
    (tmp_path / "a b\n#error x").mkdir()
    model = tmp_path / "a b\n#error x" / "weird \n#error y \\.tflite"
    model.write_bytes(hc.tflite_with_names(BENIGN[:2]))
    result = run_tinynet("convert", model, "-o", tmp_path / "m.hpp", "--name", "m")
    assert result.returncode == 0, result.stderr
    header = (tmp_path / "m.hpp").read_text()
    assert header.startswith("// Generated by tinynet from weird \\n#error y \\.tflite; do not edit.\n")
    assert "// model:   weird \\n#error y \\.tflite\n" in header
    assert not any(line.startswith("#error") for line in header.splitlines())
    assert str(tmp_path) not in header and "#error x" not in header


# ---- 3. ONNX external data -----------------------------------------------------------------------

@pytest.fixture
def external_model(tmp_path):
    onnx = pytest.importorskip("onnx")
    folder = tmp_path / "model"
    folder.mkdir()
    model = hc.onnx_with_names(BENIGN)
    onnx.save_model(model, str(folder / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    return folder / "m.onnx"


def _relocate(path, location):
    import onnx
    model = onnx.load_model(str(path), load_external_data=False)
    for t in model.graph.initializer:
        for entry in t.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save_model(model, str(path))


def test_external_data_needs_the_flag(external_model, tmp_path):
    result = run_tinynet("inspect", external_model)
    assert result.returncode == 2 and "--allow-external-data" in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1
    result = run_tinynet("convert", external_model, "--allow-external-data", "-o", tmp_path / "m.hpp")
    assert result.returncode == 0, result.stderr


def test_external_data_outside_the_folder_is_refused(external_model, tmp_path):
    from tinynet_py.onnx_import import load_onnx
    load_onnx(external_model, allow_external_data=True)          # where it is: read
    secret = tmp_path / "secret.bin"
    secret.write_bytes((external_model.parent / "weights.bin").read_bytes())
    (external_model.parent / "link.bin").symlink_to(secret)
    for location in (str(secret), "../secret.bin", "sub/../../secret.bin", "link.bin", "/etc/passwd"):
        _relocate(external_model, location)
        with pytest.raises(ModelError, match="outside the model's folder|leaves the model's folder"):
            load_onnx(external_model, allow_external_data=True)
    _relocate(external_model, "../secret.bin")
    result = run_tinynet("convert", external_model, "--allow-external-data", "-o", tmp_path / "m.hpp")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "leaves the model's folder" in result.stderr and not (tmp_path / "m.hpp").exists()
