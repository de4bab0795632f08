"""TFLM's single-op conformance set (../shared/conformance/tflm-ops, see its README.md): for every
op the registry claims, every case must match TFLM byte for byte -- the numpy reference, and the
C++ generated for it.  All cases' headers go into ONE host program (one build), which runs every
case on every run's inputs.

Rules from the set's README: runs listed in `undefined_runs` are not required; runs in
`failed_runs` (TFLM's Invoke() failed) have no expected output and are not compared; a float32
NaN matches any NaN; a case with `invokes_per_run` (SVDF, which keeps state) invokes that many
times on the same inputs from the reset state and compares the outputs of the last invoke.  Cases of a claimed op that tinynet refuses (one-line error) are listed in
GAPS; a test checks that each is still refused, so the list stays true.
"""

import json

import numpy as np
import pytest

from conftest import SHARED, placeholder_if_empty
from many_networks import HostProgram
from tinynet_py import emit, ops
from tinynet_py.ir import DTYPES
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import load_model

ROOT = SHARED / "conformance" / "tflm-ops"

# Cases of claimed ops that tinynet refuses with its one-line error (case -> what is missing).
GAPS = {}


def _cases():
    if not ROOT.is_dir():
        return []
    return sorted(f"{op.name}/{case.name}" for op in ROOT.iterdir()
                  if op.is_dir() and op.name.upper() in ops.SUPPORTED_OPS
                  for case in op.iterdir() if (case / "meta.json").exists())


CASES = _cases()
MISSING = f"no tflm-ops cases under {ROOT}"
SUPPORTED_CASES = placeholder_if_empty([c for c in CASES if c not in GAPS], MISSING)


class Case:
    def __init__(self, name):
        self.name = name
        self.folder = ROOT / name
        self.meta = json.loads((self.folder / "meta.json").read_text())
        self.model = load_model(self.folder / "model.tflite")
        # failed_runs entries are {"run": k, "rc": ..., "log": ...} (a bare k is accepted too).
        skipped = {r["run"] if isinstance(r, dict) else r
                   for r in self.meta.get("undefined_runs", []) + self.meta.get("failed_runs", [])}
        self.runs = [(k, run) for k, run in enumerate(self.meta["runs"])
                     if k not in skipped and run["outputs"] and not run.get("tflm_failed")]
        self.invokes = int(self.meta.get("invokes_per_run", 1))

    def inputs(self, run):
        return [np.fromfile(self.folder / f, dtype=DTYPES[self.model.tensors[i].dtype])
                for f, i in zip(run["inputs"], self.model.inputs)]

    def expected(self, run):
        return [(self.folder / f).read_bytes() for f in run["outputs"]]

    def output_dtypes(self):
        return [self.model.tensors[i].dtype for i in self.model.outputs]


def same_bytes(got, want, dtype):
    """Byte equality; for float32, any NaN matches any NaN (the README's rule)."""
    if got == want:
        return True
    if dtype != "float32" or len(got) != len(want):
        return False
    a, b = np.frombuffer(got, np.float32), np.frombuffer(want, np.float32)
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | (a.view(np.uint32) == b.view(np.uint32))))


def check(case, run, outputs):
    """outputs: bytes per output; returns a description of the first difference or None."""
    for j, (got, want, dtype) in enumerate(zip(outputs, case.expected(run), case.output_dtypes())):
        if not same_bytes(got, want, dtype):
            a = np.frombuffer(got, DTYPES[dtype]) if len(got) % np.dtype(DTYPES[dtype]).itemsize == 0 else None
            b = np.frombuffer(want, DTYPES[dtype])
            if a is None or a.size != b.size:
                return f"output {j}: {len(got)} bytes, TFLM wrote {len(want)}"
            bad = np.flatnonzero(a != b)
            return (f"output {j}: {bad.size} of {b.size} values differ, first at {bad[0]}: "
                    f"got {a[bad[0]]!r}, TFLM {b[bad[0]]!r}")
    return None


def test_gaps_are_refused_with_one_line():
    """Each case listed in GAPS is refused by the generator with a ModelError (what `tinynet convert`
    prints as one line, exit 2), not converted into something wrong. (GAPS is empty today: one test
    over the list, so that an empty list is not a skip.)"""
    from tinynet_py.errors import ModelError
    for name in sorted(GAPS):
        assert name in CASES, f"{name} is no longer in tflm-ops or its op is no longer claimed"
        case = Case(name)
        with pytest.raises(ModelError) as error:
            emit.generate_header(case.model, "gap")
        assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", SUPPORTED_CASES)
def test_reference_matches_tflm(name):
    case = Case(name)
    interpreter = Interpreter(case.model)
    assert case.runs, "no run with an expected output"
    for k, run in case.runs:
        interpreter.reset()          # a fresh TFLM interpreter per run: state at its initial value
        for _ in range(case.invokes):
            result = interpreter.invoke(case.inputs(run))
        outputs = [np.ascontiguousarray(o).tobytes() for o in result]
        problem = check(case, run, outputs)
        assert problem is None, f"{name} run {k}: {problem}"


# ---- the C++: one program for every case --------------------------------------------------------

@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """Builds the one program from every case the generator accepts and runs every run of every case
    in one process; (case name, run) -> output paths, and case name -> the compiled arena bytes."""
    cases = {}
    for name in CASES:
        if name not in GAPS:
            cases[name] = len(cases)
    program = HostProgram("tflm-ops", [Case(name).model for name in cases])
    # Run every case and run at once; each test then reads its own outputs.
    work = tmp_path_factory.mktemp("tflm-ops-out")
    lines, outputs = [], {}
    for name, k in cases.items():
        case = Case(name)
        for r, run in case.runs:
            outs = [work / f"{k}_{r}_{j}.bin" for j in range(len(case.model.outputs))]
            lines.append((k, [case.folder / f for f in run["inputs"]], outs, case.invokes))
            outputs[(name, r)] = outs
    program.run(work, lines)
    outputs.update(zip(cases, program.arena_bytes()))
    return outputs


@pytest.mark.parametrize("name", SUPPORTED_CASES)
def test_cpp_matches_tflm(name, program):
    case = Case(name)
    for k, run in case.runs:
        outputs = [open(p, "rb").read() for p in program[(name, k)]]
        problem = check(case, run, outputs)
        assert problem is None, f"{name} run {k}: {problem}"


def test_inspect_arena_estimate_is_the_compiled_plan(program):
    """`inspect`'s arena estimate (analysis.arena_plan, made without a compiler) is the arena the
    compiler planned (graph/network.hpp) for every case: the same sharing rules (aliases, views of
    splits, Pack inputs written in place, in-place ops), one planning rule on each side."""
    from tinynet_py import analysis
    wrong = []
    for name in SUPPORTED_CASES:
        estimate = analysis.arena_plan(Case(name).model)[0]
        if estimate != program[name]:
            wrong.append(f"{name}: estimate {estimate}, compiled {program[name]}")
    assert not wrong, "\n".join(wrong)
