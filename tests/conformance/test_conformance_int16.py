"""The numpy reference against TFLM's int16 (16x8) per-op conformance goldens."""

import numpy as np
import pytest

from conftest import SHARED, placeholder_if_empty, shared_listing
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import load_model

CASES = placeholder_if_empty(
    [p for p in shared_listing("conformance", "tflm-seanet-int16", pattern="*/*.tflite")],
    f"no conformance cases under {SHARED / 'conformance' / 'tflm-seanet-int16'}")


def read_csv(path):
    text = path.read_text().replace("\n", ",")
    return np.array([int(v) for v in text.split(",") if v.strip()], dtype=np.int64)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem if p else "none")
def test_int16_conformance(case):
    model = load_model(case, check_supported=False)
    inputs = []
    for k in range(len(model.inputs)):
        found = sorted(case.parent.glob(f"{case.stem}_input{k}_*.csv"))
        assert found, f"no input {k} for {case.stem}"
        inputs.append(read_csv(found[0]))
    golden = read_csv(sorted(case.parent.glob(f"{case.stem}_golden_*.csv"))[0])
    got = Interpreter(model).invoke(inputs)[0].reshape(-1).astype(np.int64)
    assert got.size == golden.size
    differ = np.flatnonzero(got != golden)
    assert differ.size == 0, (f"{case.stem}: {differ.size} of {got.size} values differ, "
                              f"first at {differ[0]}: got {got[differ[0]]}, want {golden[differ[0]]}")
