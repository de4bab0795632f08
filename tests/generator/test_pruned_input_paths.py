"""A pruning that cuts every path from a model's input to its outputs (prune.input_reaches_outputs)
is said on stderr and in `inspect --json`'s "warnings": the model then answers one output for every
input, which no output byte shows by itself. Expected values come from the numpy reference on
TFLM's golden inputs of vww_96_int8 (../shared/golden), not from the check itself."""

import json

import numpy as np

from conftest import run_tinynet, shared_path
from tinynet_py import prune
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import load_model

VWW = shared_path("models", "mlperf-tiny", "vww_96_int8.tflite")


def _distinct_outputs(model):
    golden = sorted(shared_path("golden", "vww_96_int8").glob("in_*.bin"))
    assert len(golden) >= 10
    outputs = set()
    for path in golden:
        x = np.fromfile(path, np.int8).reshape(1, 96, 96, 3)
        outputs.add(Interpreter(model).invoke([x])[0].tobytes())
    return len(outputs)


def test_pruning_that_leaves_no_path_from_the_input_is_said():
    for fraction, cut in ((0.5, False), (0.7, True)):
        pruned = prune.drop_unread_channels(prune.prune_synapses(load_model(str(VWW)), fraction)[0])[0]
        # The golden images get one answer between them exactly when no path is left.
        assert (_distinct_outputs(pruned) == 1) == cut, fraction
        assert prune.input_reaches_outputs(pruned) == (not cut), fraction
        result = run_tinynet("inspect", VWW, "--json", "--prune-synapses", str(fraction))
        assert result.returncode == 0, result.stderr
        warnings = json.loads(result.stdout)["warnings"]
        assert bool(warnings) == cut, fraction
        assert ("no path of non-zero weights" in result.stderr) == cut, fraction
    assert _distinct_outputs(load_model(str(VWW))) > 1
    assert prune.input_reaches_outputs(load_model(str(VWW)))
