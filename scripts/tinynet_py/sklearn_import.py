"""Reads a pickled scikit-learn MLPClassifier / MLPRegressor into tinynet's IR (float32).

An MLP of L layers becomes L FULLY_CONNECTED ops (weights transposed to TFLite's [units, inputs]
layout), with the hidden activation fused (relu) or added as an op (logistic, tanh), and the
output activation sklearn applies in predict_proba: SOFTMAX for a multi-class classifier,
LOGISTIC for a binary or multi-label one, nothing for a regressor. A binary classifier keeps
sklearn's single output unit (the probability of classes_[1]).

Unpickling runs code from the file: only load models you trust (as with any pickle).
"""

import hashlib
import pickle

import numpy as np

from .errors import ModelError, TinynetError
from .ir import Model, Op, Tensor

SUPPORTED = "sklearn.neural_network.MLPClassifier and MLPRegressor"
_HIDDEN = {"relu": "RELU", "identity": "NONE", "logistic": "LOGISTIC", "tanh": "TANH"}


def load_sklearn(path):
    path = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TinynetError(path, f"cannot read the model: {e.strerror or e}") from None
    try:
        estimator = pickle.loads(data)
    except ModuleNotFoundError as e:
        raise ModelError(path, f"unpickling needs the Python module '{e.name}' (is python3-sklearn "
                               f"installed?)") from None
    except Exception as e:  # a pickle can fail in many ways; all mean "not a model we can read"
        raise ModelError(path, f"not a readable pickle ({type(e).__name__}: {e})") from None
    return from_estimator(estimator, path, hashlib.sha256(data).hexdigest())


def from_estimator(estimator, path="<estimator>", sha256=""):
    kind = type(estimator).__name__
    if kind not in ("MLPClassifier", "MLPRegressor"):
        raise ModelError(path, f"holds a {type(estimator).__module__}.{kind}; tinynet reads {SUPPORTED}")
    if not hasattr(estimator, "coefs_"):
        raise ModelError(path, f"the {kind} is not fitted (no coefs_)")
    hidden = estimator.activation
    if hidden not in _HIDDEN:
        raise ModelError(path, f"hidden activation '{hidden}' is not supported "
                               f"(supported: {', '.join(_HIDDEN)})")
    output_activation = getattr(estimator, "out_activation_", "identity")
    if output_activation not in ("softmax", "logistic", "identity"):
        raise ModelError(path, f"output activation '{output_activation}' is not supported")

    tensors, ops = [], []

    def add_tensor(name, shape, data=None):
        t = Tensor(index=len(tensors), name=name, shape=tuple(int(d) for d in shape), dtype="float32",
                   data=None if data is None else np.ascontiguousarray(data, dtype=np.float32))
        tensors.append(t)
        return t.index

    def add_op(opcode, inputs, outputs, options):
        ops.append(Op(index=len(ops), opcode=opcode, inputs=list(inputs), outputs=list(outputs),
                      options=options))

    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    current = add_tensor("input", (1, coefs[0].shape[0]))
    graph_input = current
    for layer, (w, b) in enumerate(zip(coefs, intercepts)):
        last = layer == len(coefs) - 1
        units = w.shape[1]
        weights = add_tensor(f"dense_{layer}/weights", (units, w.shape[0]), np.asarray(w).T)
        bias = add_tensor(f"dense_{layer}/bias", (units,), b)
        out = add_tensor(f"dense_{layer}", (1, units))
        activation = "NONE" if last else _HIDDEN[hidden]
        fused = activation if activation in ("NONE", "RELU") else "NONE"
        add_op("FULLY_CONNECTED", (current, weights, bias), (out,),
               {"fused_activation_function": fused, "weights_format": 0, "keep_num_dims": False})
        current = out
        if activation in ("LOGISTIC", "TANH"):
            nxt = add_tensor(f"dense_{layer}/{activation.lower()}", (1, units))
            add_op(activation, (current,), (nxt,), {})
            current = nxt
    if output_activation == "softmax":
        probs = add_tensor("probabilities", (1, coefs[-1].shape[1]))
        add_op("SOFTMAX", (current,), (probs,), {"beta": 1.0})
        current = probs
    elif output_activation == "logistic":
        probs = add_tensor("probabilities", (1, coefs[-1].shape[1]))
        add_op("LOGISTIC", (current,), (probs,), {})
        current = probs
    description = f"scikit-learn {kind}, hidden layers {list(getattr(estimator, 'hidden_layer_sizes', []))}"
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        description += f", classes {[c.item() if hasattr(c, 'item') else c for c in classes]}"
    return Model(path=path, sha256=sha256, tensors=tensors, ops=ops, inputs=[graph_input], outputs=[current],
                 description=description)
