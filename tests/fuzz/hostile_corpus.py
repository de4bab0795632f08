"""Hostile model files, built on the fly (nothing binary is checked in): pickles that try to run
code, and ONNX files whose names try to escape the header's comments or whose external data points
outside the model's folder. Used by tests/generator/test_security.py and tests/fuzz/fuzz_convert.py.

Every hostile pickle, if it were loaded with plain pickle.loads, would create the file `marker`:
a test checks that tinynet refuses it and that the file does not appear.
"""

import os
import pickle
import shlex


def _p0_call(module, name, *args):
    """Protocol-0 pickle text that calls module.name(*args) (string arguments)."""
    text = f"c{module}\n{name}\n(".encode()
    for a in args:
        text += f"V{a}\n".encode("raw_unicode_escape") if isinstance(a, str) else a
    return text + b"tR"


def _p4_str(text):
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data    # SHORT_BINUNICODE


def hostile_pickles(marker):
    """[(label, bytes, refused global)]: pickles that each try to create `marker`."""
    marker = str(marker)
    shell = f"touch {shlex.quote(marker)}"
    python = f"open({marker!r}, 'w').close()"
    touch_list = f"(lp0\nV{'touch'}\naV{marker}\na"        # the list ['touch', marker], protocol 0
    cases = [
        ("os.system", _p0_call("os", "system", shell) + b".", "os.system"),
        ("posix.system", _p0_call("posix", "system", shell) + b".", "posix.system"),
        ("nt.system", _p0_call("nt", "system", shell) + b".", "nt.system"),
        ("subprocess.Popen", b"csubprocess\nPopen\n(" + touch_list.encode() + b"tR.", "subprocess.Popen"),
        ("subprocess.check_call", b"csubprocess\ncheck_call\n(" + touch_list.encode() + b"tR.",
         "subprocess.check_call"),
        ("builtins.eval", _p0_call("builtins", "eval", python) + b".", "builtins.eval"),
        ("builtins.exec", _p0_call("builtins", "exec", python) + b".", "builtins.exec"),
        ("__builtin__.eval", _p0_call("__builtin__", "eval", python) + b".", "__builtin__.eval"),
        # getattr(__import__('os'), 'system')('touch marker')
        ("getattr chain", b"cbuiltins\ngetattr\n(" + _p0_call("builtins", "__import__", "os")
         + b"Vsystem\ntR(V" + shell.encode() + b"\ntR.", "builtins.getattr"),
        ("__import__", _p0_call("builtins", "__import__", "os") + b".", "builtins.__import__"),
        ("numpy.load", _p0_call("numpy", "load", marker) + b".", "numpy.load"),
        ("numpy.testing", _p0_call("numpy.testing._private.utils", "runstring",
                                   f"open({marker!r}, 'w').close()", b"(d") + b".",
         "numpy.testing._private.utils.runstring"),
        # protocol 4: STACK_GLOBAL with the names from the stack, as pickle.dumps writes them
        ("STACK_GLOBAL posix.system", b"\x80\x04" + _p4_str("posix") + b"\x94" + _p4_str("system")
         + b"\x94\x93\x94" + _p4_str(shell) + b"\x94\x85\x94R\x94.", "posix.system"),
        # an allowed function asked to do something else: _codecs.encode with another codec
        ("_codecs.encode abuse", b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00xX\x05\x00\x00\x00rot13\x86R.", None),
    ]
    return cases


def nested_hostile_pickle(marker, estimator):
    """A valid fitted estimator whose state also holds an object that calls os.system on load
    (pickled by pickle.dumps itself, as posix.system)."""
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {shlex.quote(str(marker))}",))

    state = dict(estimator.__dict__)
    estimator.__dict__.clear()
    estimator.__dict__.update({"coefs_": state.pop("coefs_"), "payload": Evil(), **state})
    try:
        return pickle.dumps(estimator, protocol=4)
    finally:
        estimator.__dict__.pop("payload")


# Names that try to leave a C++ comment or a string literal: every control character, splices,
# comment ends, preprocessor lines, quotes, non-ASCII, trigraphs, very long text. MARKER appears
# in each so a test can find model text in the header.
MARKER = "INJECTED"
HOSTILE_NAMES = [
    "x\n#error " + MARKER + "\n//",
    "".join(chr(c) for c in range(0x20)) + "\x7f" + MARKER,
    MARKER + "\\",
    "\\" + MARKER + "\\\\",
    MARKER + " */ int injected_global = 1; /*",
    "/* " + MARKER + " */",
    "#define " + MARKER + " 1",
    '"' + MARKER + "\"'\\'",
    "caf\u00e9 \u202e" + MARKER + " \u2028 \U0001F600 \x85",
    MARKER + "??/\n??=define X",
    MARKER + "\r#error cr\f#error ff\v#error vt\x00#error nul",
    MARKER + "x" * 5000,
]


def tflite_with_names(names, description=None):
    """A float32 TFLite chain of FULLY_CONNECTED layers (4 units) and a MUL by a constant whose tensor names, subgraph name
    and description are the given strings; returns the file's bytes."""
    import numpy as np
    from tinynet_py import tflite_builder as b
    tensors, ops, buffers = [b.tensor([1, 4], "float32", name=names[0])], [], []
    rng = np.random.default_rng(0)
    for k, name in enumerate(names):
        buffers.append(rng.standard_normal((4, 4)).astype("<f4").tobytes())
        tensors.append(b.tensor([4, 4], "float32", buffer=len(buffers), name=name + "/w"))
        buffers.append(rng.standard_normal(4).astype("<f4").tobytes())
        tensors.append(b.tensor([4], "float32", buffer=len(buffers), name=name + "/b"))
        tensors.append(b.tensor([1, 4], "float32", name=names[(k + 1) % len(names)] + f"/{k}"))
        # tensor 0 is the input; op k has weights 3k+1, bias 3k+2, output 3k+3 and reads 3k
        ops.append(b.operator(0, [3 * k, 3 * k + 1, 3 * k + 2], [3 * k + 3], 8,
                              b.T(f0=("int8", 1 if k % 2 else 0))))
    # Last, a MUL by a constant named like the others: a constant operand is a ConstantTensor in
    # the header, with a comment line of its own.
    buffers.append(rng.standard_normal(4).astype("<f4").tobytes())
    tensors.append(b.tensor([4], "float32", buffer=len(buffers), name=names[0] + "/factor"))
    tensors.append(b.tensor([1, 4], "float32", name=names[-1] + "/scaled"))
    ops.append(b.operator(1, [len(tensors) - 3, len(tensors) - 2], [len(tensors) - 1], 21,
                          b.T(f0=("int8", 0))))
    return b.model(tensors, ops, [0], [len(tensors) - 1], [9, 18], buffers,
                   description=description if description is not None else " ".join(names))


def onnx_with_names(names):
    """A float32 ONNX model (Gemm, Relu, ...) whose value, node and graph names, doc strings,
    producer and metadata are the given strings; returns the ModelProto."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    current = names[0]
    for k, name in enumerate(names):
        w, bias, out = f"{name}/w{k}", f"{name}/b{k}", f"{names[(k + 1) % len(names)]}/y{k}"
        inits += [numpy_helper.from_array(rng.standard_normal((4, 4)).astype(np.float32), w),
                  numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), bias)]
        nodes.append(helper.make_node("Gemm", [current, w, bias], [out], name=name, doc_string=name))
        current = out
        if k % 3 == 1:
            relu = f"{name}/relu{k}"
            nodes.append(helper.make_node("Relu", [current], [relu], name=name + "/relu"))
            current = relu
    graph = helper.make_graph(nodes, names[-1], [helper.make_tensor_value_info(names[0], TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info(current, TensorProto.FLOAT, [1, 4])], inits,
                              doc_string=names[1])
    model = helper.make_model(graph, producer_name=names[2], doc_string=names[3],
                              opset_imports=[helper.make_opsetid("", 13)])
    helper.set_model_props(model, {names[4]: names[5], "name": names[0]})
    model.ir_version = 8
    return model
