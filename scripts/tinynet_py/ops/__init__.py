"""The op registry: everything the generator knows about each TFLite op, in one place per op.

One module per op family (weighted, pooling, arithmetic, layout, activations, quantization)
declares an `OpSpec` for each of its ops: TFLite options schema, the numpy reference's
prepare/run (bit-exact with TFLM), the C++ emission, MACs and the inspect text, how
quantization and pruning treat it, and whether the arena may alias its output with its
input.  Everything else is derived from REGISTRY: the reader's supported-op list and its
error message, `inspect`, `quantize`, `prune`, the emitter and the ONNX importer's targets.

An op is supported when its spec is complete (tests/generator/test_registry.py fails on a
half-registered op).  An op whose reference exists but whose C++ the emitter cannot write
yet carries `pending` (the reason) and is not supported: the reader refuses it.

How to add an op: docs/design.md, "How to add an op".
"""

from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class OpSpec:
    opcode: str
    # TFLite builtin options: (BuiltinOptions union type code, table name, fields as
    # (field id, key, kind, default)); kinds: int8/int32/bool/float32/int32[]/padding/activation.
    # (0, None, []) for an op without an options table.
    options: tuple
    prepare: Callable                    # prepare(ctx: common.OpContext) -> plan (dict)
    run: Callable                        # run(plan, *inputs) -> output array (list for several)
    # emit(e, op, plan, prefix, ins, outs) -> the C++ op type, or a list of (name suffix, type)
    # when the op becomes several library ops (SPLIT: one slice per output).
    emit: Optional[Callable] = None
    # Inputs that are activations: None (all), n (the first n) or a tuple of input positions;
    # the others are constants read at generation time.
    data_inputs: object = None
    same_shape: bool = False             # element-wise of one input: output shape = input shape
    macs: Optional[Callable] = None      # macs(model, op) -> int (None: 0)
    params_text: Optional[Callable] = None  # params_text(op) -> str for `inspect` (fused
                                         # activations are added by analysis.py)
    weights: bool = False                # constant inputs are weights (flash, pruning, density)
    requant_table_bytes: Optional[Callable] = None  # (model, op) -> bytes of per-channel tables
    # Post-training quantization (quantize.py):
    #   "weights": int8 per-channel weights along weight_axis, int32 bias, calibrated output;
    #   "shared": output shares the data inputs' parameters (the kernel copies, never rescales);
    #   "fixed": output parameters fixed by the int8 kernel (fixed_output = (scale, zero point));
    #   "calibrated": output parameters from calibration; None: cannot be quantized.
    quantize: Optional[str] = None
    weight_axis: Optional[int] = None
    # TFLM's kernel takes an INT4 filter (TensorType 17, unpacked to int8 before it runs): the
    # reader accepts one, and --weight-bits 4 makes one (quantize.py).
    int4_weights: bool = False
    fixed_output: Optional[tuple] = None
    # Pruning (prune.py): "synapses" (its weights can be pruned; CONV_2D and FULLY_CONNECTED
    # also lose whole output channels), "channelwise" (keeps channels apart: a neuron-pruning
    # chain passes through it), None (stops a chain).
    prune: Optional[str] = None
    # Neuron pruning (prune.prune_neurons) follows a layer's output channels to the one weighted
    # op that reads them.  Each hook takes (model, op, t, flattened): t the op's input tensor,
    # flattened None or (positions, channels) once the channels were flattened into rows, and
    # returns (passes, flattened after the op).
    #   prune_neurons: the op's whole output channels can be removed (weights along weight_axis,
    #     bias along 0), and the hook says whether it can end a chain (its input channels shrink).
    #   prune_through: the chain passes this op when the hook agrees (prune="channelwise" ops
    #     pass without one).
    # prune_shrink(model, op, keep, flattened) removes the dropped channels from an op the chain
    # passed (its parameters and output); without it, the output's last dimension shrinks.
    prune_neurons: Optional[Callable] = None
    prune_through: Optional[Callable] = None
    prune_shrink: Optional[Callable] = None
    # prune_join(model, op) -> bool: the op's data inputs and its output are one channel space
    # (an element-wise op over equal shapes, such as a residual ADD): prune.prune_neurons removes
    # the same channels from all of them, and from every layer writing or reading them.
    prune_join: Optional[Callable] = None
    fuses_activation: bool = False       # a separate RELU/RELU6 may be fused into it (ONNX import)
    # The output IS the input (its C++ op has `alias = true`: the arena gives both one buffer, as
    # for RESHAPE): True, or alias(model, op, plan) -> bool when it depends on the op's parameters.
    alias: object = False
    constant_operands: bool = False      # a constant data input is emitted as a
                                         # tinynet::ConstantTensor (element-wise ops of two operands)
    pending: Optional[str] = None        # why the op is not supported yet (reference only)
    # The output is known at generation time whatever the input values (SHAPE): fold_constants
    # replaces the op by a constant tensor, so it needs no C++ at all.
    folded: bool = False

    @property
    def supported(self):
        return self.pending is None and (self.emit is not None or self.folded)


def _collect():
    from . import activations, arithmetic, indexing, layout, pooling, quantization, weighted
    from . import normalization, recurrent
    from . import svdf
    registry = {}
    for module in (weighted, pooling, arithmetic, layout, activations, quantization, indexing,
                   normalization, recurrent,
                   svdf):
        for spec in module.SPECS:
            if spec.opcode in registry:
                raise RuntimeError(f"op {spec.opcode} is registered twice")
            registry[spec.opcode] = spec
    return dict(sorted(registry.items()))


REGISTRY = _collect()

# Ops tinynet converts (reference, emitter and C++ library), sorted by name.
SUPPORTED_OPS = tuple(name for name, spec in REGISTRY.items() if spec.supported)

# op name -> (BuiltinOptions type code, options table name, fields): what the reader decodes
# and the writer encodes.
OPTIONS = {name: spec.options for name, spec in REGISTRY.items()}


def spec(opcode):
    """The spec of a supported op, or None."""
    s = REGISTRY.get(opcode)
    return s if s is not None and s.supported else None


def names(predicate):
    """Supported ops whose spec satisfies predicate, as a tuple of names."""
    return tuple(name for name, s in REGISTRY.items() if s.supported and predicate(s))


def data_input_positions(spec, op):
    """Positions in op.inputs of the activation inputs (see OpSpec.data_inputs)."""
    if spec.data_inputs is None:
        return list(range(len(op.inputs)))
    if isinstance(spec.data_inputs, int):
        return list(range(min(spec.data_inputs, len(op.inputs))))
    return [k for k in spec.data_inputs if k < len(op.inputs)]


def aliases(model, op, plan=None):
    """Whether op's output shares its input's buffer (no copy)."""
    s = REGISTRY.get(op.opcode)
    if s is None or not s.alias:
        return False
    if callable(s.alias):
        if plan is None:
            from .common import OpContext
            plan = s.prepare(OpContext(model, op))
        return bool(s.alias(model, op, plan))
    return True


def supported_ops_text():
    return ", ".join(SUPPORTED_OPS)


def fold_constants(model):
    """The model with every op whose output is known at generation time replaced by a constant
    tensor: ops declared `folded` (SHAPE) and ops whose inputs are all constants (e.g. the shape
    arithmetic a converter leaves behind).  Their values come from the reference kernels.  Graph
    outputs are never folded.  Ops are renumbered in order."""
    import dataclasses

    import numpy as np

    from ..ir import DTYPES
    from .common import OpContext

    tensors = list(model.tensors)
    kept = []
    for op in model.ops:
        s = REGISTRY.get(op.opcode)
        constant_inputs = bool(op.inputs) and all(i < 0 or tensors[i].data is not None for i in op.inputs)
        if (s is None or s.pending or len(op.outputs) != 1 or op.outputs[0] in model.outputs
                or not (s.folded or constant_inputs)):
            kept.append(op)
            continue
        current = dataclasses.replace(model, tensors=tensors)
        plan = s.prepare(OpContext(current, op))
        args = [tensors[i].data if i >= 0 else None for i in op.inputs]
        out = tensors[op.outputs[0]]
        data = np.asarray(s.run(plan, *args)).astype(DTYPES[out.dtype]).reshape(out.shape)
        data.setflags(write=False)
        tensors[op.outputs[0]] = dataclasses.replace(out, data=data)
    if len(kept) == len(model.ops):
        return model
    ops = [dataclasses.replace(op, index=k) for k, op in enumerate(kept)]
    return dataclasses.replace(model, tensors=tensors, ops=ops)
