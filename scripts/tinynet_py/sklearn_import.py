"""Reads a pickled scikit-learn MLPClassifier / MLPRegressor into tinynet's IR (float32).

An MLP of L layers becomes L FULLY_CONNECTED ops (weights transposed to TFLite's [units, inputs]
layout), with the hidden activation fused (relu) or added as an op (logistic, tanh), and the
output activation sklearn applies in predict_proba: SOFTMAX for a multi-class classifier,
LOGISTIC for a binary or multi-label one, nothing for a regressor. A binary classifier keeps
sklearn's single output unit (the probability of classes_[1]).

A pickle is a program: plain pickle.loads runs whatever functions the file names. tinynet reads
pickles with a restricted unpickler: the file may name only the classes and functions a fitted
MLP is made of (ALLOWED below: the two estimators, their optimizer and label binarizer, numpy's
array, dtype and random-state reconstruction), and anything else is refused before any object is
built: a scan of the pickle's opcodes checks every global first, and find_class checks again
while loading.
"""

import copyreg
import hashlib
import importlib
import io
import pickle
import pickletools

import numpy as np

from .errors import ModelError, TinynetError
from .ir import Builder
from .safe_text import escape

_MLP = "sklearn.neural_network._multilayer_perceptron"
_OPTIMIZERS = "sklearn.neural_network._stochastic_optimizers"
_ESTIMATORS = {(_MLP, "MLPClassifier"), (_MLP, "MLPRegressor")}
# Every global a pickled, fitted MLPClassifier/MLPRegressor names (protocols 0-5; found by logging
# find_class while loading classifiers and regressors of every solver and label kind). numpy 2
# moved numpy.core to numpy._core: both spellings are listed.
ALLOWED = _ESTIMATORS | {
    (_OPTIMIZERS, "AdamOptimizer"), (_OPTIMIZERS, "SGDOptimizer"),
    ("sklearn.preprocessing._label", "LabelBinarizer"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("numpy.random._pickle", "__randomstate_ctor"), ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._mt19937", "MT19937"),
    ("_codecs", "encode"),                                   # bytes in protocol 2: checked below
    ("copyreg", "_reconstructor"), ("copy_reg", "_reconstructor"),   # protocols 0-1: checked below
    ("builtins", "object"), ("__builtin__", "object"),
}


def _encode(text, encoding):
    """_codecs.encode as protocol 2 uses it (bytes stored as latin-1 text), and nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed only to turn latin-1 text into bytes")
    return text.encode("latin-1")


def _reconstructor(cls, base, state):
    """copyreg._reconstructor as protocols 0-1 use it for plain objects, and nothing else."""
    if base is not object or state is not None or not isinstance(cls, type) or \
            (cls.__module__, cls.__qualname__) not in ALLOWED:
        raise pickle.UnpicklingError("copyreg._reconstructor is allowed only for the allowed classes")
    return copyreg._reconstructor(cls, base, state)


_WRAPPERS = {("_codecs", "encode"): _encode, ("copyreg", "_reconstructor"): _reconstructor,
             ("copy_reg", "_reconstructor"): _reconstructor}


def _refuse(path, module, name):
    return ModelError(path, f"refused to unpickle '{escape(module, 80)}.{escape(name, 80)}': tinynet "
                            f"reads pickles with a restricted unpickler that loads only what a fitted "
                            f"scikit-learn MLP is made of (a pickle that names other functions can run "
                            f"code; do not load this file with pickle)")


def _globals(data):
    """Every (module, name) the pickle's GLOBAL, INST and STACK_GLOBAL opcodes name, found without
    building anything. STACK_GLOBAL takes its two strings from the stack; the pickler pushes them
    right before it (or fetches them from the memo), which this scan follows. A name it cannot
    follow is reported as '?'."""
    memo, recent = {}, []          # recent: what the last opcodes pushed (a str or None)
    found = []
    for opcode, arg, _ in pickletools.genops(data):
        name = opcode.name
        if name in ("GLOBAL", "INST"):
            module, _, attr = arg.partition(" ")
            found.append((module, attr))
            recent.append(None)
        elif name == "STACK_GLOBAL":
            module, attr = (recent[-2:] + [None, None])[:2] if len(recent) >= 2 else (None, None)
            found.append((module if isinstance(module, str) else "?",
                          attr if isinstance(attr, str) else "?"))
            recent.append(None)
        elif name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = recent[-1] if recent else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            recent.append(memo.get(arg))
        elif "UNICODE" in name or name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
            recent.append(arg if isinstance(arg, str) else None)
        else:
            recent.append(None)
        del recent[:-2]
    return found


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data, path):
        super().__init__(io.BytesIO(data))
        self.path = path

    def find_class(self, module, name):
        if (module, name) not in ALLOWED:
            raise _refuse(self.path, module, name)
        if (module, name) in _WRAPPERS:
            return _WRAPPERS[(module, name)]
        module = {"copy_reg": "copyreg", "__builtin__": "builtins"}.get(module, module)
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            # numpy.core <-> numpy._core: the pickle was written by the other numpy major version
            other = module.replace("numpy.core", "numpy._core") if module.startswith("numpy.core") \
                else module.replace("numpy._core", "numpy.core")
            return getattr(importlib.import_module(other), name)

    def persistent_load(self, pid):
        raise ModelError(self.path, "the pickle refers to persistent objects; tinynet reads plain "
                                    "pickles of scikit-learn MLPs only")


def unpickle_mlp(data, path):
    """The estimator pickled in `data`, read by the restricted unpickler (see the module docstring)."""
    try:
        names = _globals(data)
    except Exception as e:   # not a pickle at all: genops stops at the first unknown opcode
        raise ModelError(path, f"not a readable pickle ({type(e).__name__}: {escape(e)})") from None
    for module, name in names:
        if (module, name) not in ALLOWED:
            raise _refuse(path, module, name)
    try:
        return _RestrictedUnpickler(data, path).load()
    except ModelError:
        raise
    except ModuleNotFoundError as e:
        raise ModelError(path, f"unpickling needs the Python module '{escape(e.name)}' (is python3-sklearn "
                               f"installed?)") from None
    except Exception as e:  # a pickle can fail in many ways; all mean "not a model we can read"
        raise ModelError(path, f"not a readable pickle ({type(e).__name__}: {escape(e)})") from None

SUPPORTED = "sklearn.neural_network.MLPClassifier and MLPRegressor"
_HIDDEN = {"relu": "RELU", "identity": "NONE", "logistic": "LOGISTIC", "tanh": "TANH"}


def load_sklearn(path):
    path = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TinynetError(path, f"cannot read the model: {e.strerror or e}") from None
    estimator = unpickle_mlp(data, path)
    return from_estimator(estimator, path, hashlib.sha256(data).hexdigest())


def from_estimator(estimator, path="<estimator>", sha256=""):
    kind = type(estimator).__name__
    if kind not in ("MLPClassifier", "MLPRegressor"):
        raise ModelError(path, f"holds a {type(estimator).__module__}.{kind}; tinynet reads {SUPPORTED}")
    if not hasattr(estimator, "coefs_"):
        raise ModelError(path, f"the {kind} is not fitted (no coefs_)")
    hidden = getattr(estimator, "activation", None)
    if not isinstance(hidden, str) or hidden not in _HIDDEN:
        raise ModelError(path, f"hidden activation '{escape(hidden)}' is not supported "
                               f"(supported: {', '.join(_HIDDEN)})")
    output_activation = getattr(estimator, "out_activation_", "identity")
    if not isinstance(output_activation, str) or output_activation not in ("softmax", "logistic", "identity"):
        raise ModelError(path, f"output activation '{escape(output_activation)}' is not supported")
    arrays = (list(estimator.coefs_) if isinstance(estimator.coefs_, (list, tuple)) else [None]) + \
        (list(getattr(estimator, "intercepts_", None) or [None]))
    if not all(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays) or \
            len(estimator.coefs_) != len(estimator.intercepts_):
        raise ModelError(path, f"the {kind}'s coefs_ and intercepts_ are not lists of float arrays")

    builder = Builder()
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    current = builder.tensor("input", (1, coefs[0].shape[0]))
    graph_input = current
    for layer, (w, b) in enumerate(zip(coefs, intercepts)):
        last = layer == len(coefs) - 1
        units = w.shape[1]
        weights = builder.tensor(f"dense_{layer}/weights", (units, w.shape[0]), np.asarray(w).T)
        bias = builder.tensor(f"dense_{layer}/bias", (units,), b)
        out = builder.tensor(f"dense_{layer}", (1, units))
        activation = "NONE" if last else _HIDDEN[hidden]
        fused = activation if activation in ("NONE", "RELU") else "NONE"
        builder.op("FULLY_CONNECTED", (current, weights, bias), (out,),
                   fused_activation_function=fused, weights_format=0, keep_num_dims=False)
        current = out
        if activation in ("LOGISTIC", "TANH"):
            nxt = builder.tensor(f"dense_{layer}/{activation.lower()}", (1, units))
            builder.op(activation, (current,), (nxt,))
            current = nxt
    if output_activation == "softmax":
        probs = builder.tensor("probabilities", (1, coefs[-1].shape[1]))
        builder.op("SOFTMAX", (current,), (probs,), beta=1.0)
        current = probs
    elif output_activation == "logistic":
        probs = builder.tensor("probabilities", (1, coefs[-1].shape[1]))
        builder.op("LOGISTIC", (current,), (probs,))
        current = probs
    description = f"scikit-learn {kind}, hidden layers {list(getattr(estimator, 'hidden_layer_sizes', []))}"
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        description += f", classes {[c.item() if hasattr(c, 'item') else c for c in classes]}"
    return builder.model(path, sha256, [graph_input], [current], description=description)
