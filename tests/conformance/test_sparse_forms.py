"""--sparse end to end: ad01_int8 pruned to 90 % through the generator, each FullyConnected kernel
form compiled on the host, gives the numpy reference interpreter's bytes (and so the same bytes
as --sparse dense)."""

import numpy as np
import pytest

from conftest import run_tinynet, shared_path
from tinynet_py import prune, runner
from tinynet_py.cli.convert_cmd import header_for_model
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import load_model

FORMS = ("dense", "unrolled", "compressed", "auto")


@pytest.fixture(scope="module")
def pruned_ad01():
    model = load_model(str(shared_path("models", "mlperf-tiny", "ad01_int8.tflite")))
    return prune.prune_synapses(model, 0.9, "layer")[0]


@pytest.fixture(scope="module")
def inputs_and_expected(pruned_ad01):
    model = pruned_ad01
    tensor = model.tensors[model.inputs[0]]
    rng = np.random.RandomState(6)
    xs = [rng.randint(-128, 128, tensor.shape).astype(np.int8) for _ in range(3)]
    interpreter = Interpreter(model)
    return xs, [interpreter.invoke([x])[0].reshape(-1) for x in xs]


def test_pruning_left_one_weight_in_ten(pruned_ad01):
    for op in pruned_ad01.ops:
        w = pruned_ad01.tensors[op.inputs[1]].data
        assert np.count_nonzero(w) <= w.size - int(np.floor(0.9 * w.size))


@pytest.mark.parametrize("form", FORMS)
def test_each_form_gives_the_reference_bytes(form, pruned_ad01, inputs_and_expected, tmp_path):
    header = header_for_model(pruned_ad01, "ad01", sparse=form)
    layers = header.count("tinynet::FullyConnected<")
    assert layers == 10
    if form == "auto":
        assert "tinynet::SparseForm::" not in header   # the library's rule decides
    else:
        assert header.count(f"tinynet::SparseForm::{form}") == layers
    binary = runner.build_host(header, "ad01", 1, 1)
    xs, expected = inputs_and_expected
    for k, (x, want) in enumerate(zip(xs, expected)):
        x.tofile(tmp_path / f"in{k}.bin")
        runner.run_host(binary, [str(tmp_path / f"in{k}.bin")], [str(tmp_path / f"out{k}.bin")])
        got = np.fromfile(tmp_path / f"out{k}.bin", np.int8)
        np.testing.assert_array_equal(got, want, err_msg=f"--sparse {form}, input {k}")


def test_cli_convert_writes_the_requested_form(tmp_path):
    model = shared_path("models", "mlperf-tiny", "ad01_int8.tflite")
    out = tmp_path / "ad01.hpp"
    proc = run_tinynet("convert", model, "--prune-synapses", "0.9", "--sparse", "compressed", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().count("tinynet::SparseForm::compressed") == 10
