"""The op registry (scripts/tinynet_py/ops): every op is registered completely or not claimed, and
every list the generator used to keep by hand is derived from it.  That the C++ library compiles
every claimed op is checked where the C++ is built: test_cpp_vs_reference.py has a case for each
supported op (test_catalogue_covers_every_op_the_emitter_supports), and test_tflm_ops.py builds
every tflm-ops case of every supported op."""

import inspect

import pytest

from tinynet_py import analysis, ops, prune, quantize, schema, tflite

KINDS = {"int8", "int32", "bool", "float32", "int32[]", "padding", "activation"}
QUANTIZE_RULES = {None, "weights", "shared", "fixed", "calibrated"}
PRUNE_RULES = {None, "synapses", "channelwise"}


@pytest.mark.parametrize("name", sorted(ops.REGISTRY))
def test_op_is_registered_completely(name):
    spec = ops.REGISTRY[name]
    assert spec.opcode == name and name in schema.BUILTIN_OPERATORS
    code, table, fields = spec.options
    assert isinstance(code, int) and code >= 0
    assert (code == 0) == (table is None), "an options table needs its union type code"
    assert code or not fields
    for field in fields:
        field_id, key, kind, _ = field
        assert isinstance(field_id, int) and isinstance(key, str) and kind in KINDS, field
    assert len({f[0] for f in fields}) == len(fields), "duplicate field ids"
    for role in ("prepare", "run"):
        function = getattr(spec, role)
        assert callable(function), f"{name}: no {role}"
    assert list(inspect.signature(spec.prepare).parameters) == ["ctx"]
    if spec.folded:
        # Always folded to a constant by the generator: no C++, and nothing to emit.
        assert spec.emit is None and spec.pending is None and name in ops.SUPPORTED_OPS
    elif spec.pending is None:
        assert callable(spec.emit), f"{name} has a reference but no emitter: set `pending` or add one"
        assert list(inspect.signature(spec.emit).parameters)[:6] == ["e", "op", "plan", "prefix", "ins", "outs"]
        assert name in ops.SUPPORTED_OPS
    else:
        assert spec.emit is None and name not in ops.SUPPORTED_OPS
    assert spec.quantize in QUANTIZE_RULES and spec.prune in PRUNE_RULES
    assert (spec.quantize == "weights") == (spec.weight_axis is not None)
    assert (spec.quantize == "fixed") == (spec.fixed_output is not None)
    if spec.prune == "synapses":
        assert spec.weights and spec.weight_axis is not None
    if spec.prune_neurons is not None:     # drops whole output channels: weights [out, ...]
        assert spec.prune == "synapses" and spec.weight_axis == 0 and spec.prune_through is None
    if spec.prune_shrink is not None:
        assert spec.prune_through is not None, "only an op a chain passes through shrinks"
    for hook in (spec.prune_neurons, spec.prune_through):
        if hook is not None:
            assert list(inspect.signature(hook).parameters) == ["model", "op", "t", "flattened"]
    if spec.fuses_activation:
        assert any(f[1] == "fused_activation_function" for f in fields)
    if spec.alias:
        assert spec.data_inputs == 1, "only a one-input op can share its input's buffer"


def test_options_tables_agree_on_their_union_codes():
    by_table = {}
    for name, (code, table, _) in ops.OPTIONS.items():
        if table is not None:
            assert by_table.setdefault(table, code) == code, (name, table)
    assert len(set(by_table.values())) == len(by_table), "two tables share a union type code"


def test_derived_lists_come_from_the_registry():
    assert tflite.SUPPORTED_OPS is ops.SUPPORTED_OPS
    assert list(ops.SUPPORTED_OPS) == sorted(ops.SUPPORTED_OPS)
    assert set(quantize.SUPPORTED) <= set(ops.SUPPORTED_OPS)
    assert set(prune.WEIGHTED) | set(prune._PASS_THROUGH) <= set(ops.SUPPORTED_OPS)
    # The old hand-kept tables are gone.
    for module, names in ((quantize, ("WEIGHTED", "SAME_QUANT", "FIXED_OUTPUT")),
                          (analysis, ("_WEIGHTED_OPS",)), (schema, ("OPTIONS",)),
                          (prune, ("_CHANNEL_AXIS",))):
        for attribute in names:
            assert not hasattr(module, attribute), f"{module.__name__}.{attribute} is back"
    from tinynet_py import emit, reference
    assert not hasattr(emit._Emitter, "HANDLERS") and not hasattr(reference, "_KERNELS")


def test_prune_names_no_op():
    """What pruning does with an op is declared with the op: prune.py spells no opcode."""
    import re
    source = inspect.getsource(prune)
    code = source[source.index('"""', 3) + 3:]              # after the module docstring
    named = set(re.findall(r"[\"']([A-Z][A-Z0-9_]+)[\"']", code)) & set(ops.REGISTRY)
    assert not named, f"prune.py names ops {sorted(named)}; declare it in the op's OpSpec"
    assert set(prune._NEURONS) == {"CONV_2D", "FULLY_CONNECTED"}
    assert {"DEPTHWISE_CONV_2D", "MEAN", "RESHAPE", "RELU", "MAX_POOL_2D"} <= set(prune._PASS_THROUGH)

