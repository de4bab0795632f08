#!/usr/bin/python3
"""Trains the gesture GRU of examples/gru and writes its float .tflite and its data.

The task: a wrist accelerometer (3 axes) read 8 times over a gesture, 4 gestures to tell apart:

- idle: the wrist at rest (gravity on a tilted axis, a slow drift, sensor noise);
- circle_cw and circle_ccw: the hand draws a circle in the x-y plane, clockwise or counter-clockwise
  (the same samples, in the other order: only the order of the steps tells them apart, so a model
  that ignores time cannot do better than chance between the two);
- shake: a fast oscillation on the z axis.

Every sequence has its own amplitude, speed, phase, tilt and noise. A sample is one signed byte per
axis, in steps of 1/32 g (what the sensor's driver hands over); the network reads code / 32.

The model: one GRU layer (16 units, Keras' formulation with reset_after: z = sigmoid(x Wz + bz +
h Uz + cz), r = sigmoid(x Wr + br + h Ur + cr), n = tanh(x Wn + bn + r * (h Un + cn)),
h' = z * h + (1 - z) * n, h0 = 0) over the 8 steps, then a fully connected layer and a softmax.
It is trained here with numpy (backpropagation through time, Adam) and written as TFLite writes a
Keras GRU unrolled over a fixed sequence: the [1, 8, 3] input UNPACKed into the 8 steps, per step
two FULLY_CONNECTED (input and recurrent projection, 3 x 16 gates each), two SPLITs into the gates,
ADD, LOGISTIC, MUL, TANH, SUB (1 - z) and ADD; the first step with the zero initial state folded as
the converter folds it (the recurrent projection of h0 = 0 is its bias, a constant, and z * h0 is
dropped); the last state through FULLY_CONNECTED and SOFTMAX.

Files written to OUT_DIR (everything seeded: the same files on every run, on the same numpy):
- gru_float.tflite: the float32 model (input to `tinynet convert --quantize`);
- gru_weights.npz: the trained float weights (evaluate.py's float forward pass);
- calib.npz: 'x', 200 training sequences as network inputs [200, 8, 3] (--quantize);
- test.npz: 'codes' (int8 [400, 8, 3]) and 'labels' of the 400 held-out sequences (100 per gesture);
- gru_test_set.hpp: the same codes and labels as C++ arrays (namespace gru_data).

usage: train.py OUT_DIR
"""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))

from tinynet_py.ir import Model, Op, Tensor  # noqa: E402
from tinynet_py.tflite_writer import write_model  # noqa: E402

GESTURES = ("idle", "circle_cw", "circle_ccw", "shake")
STEPS = 8            # samples per gesture
AXES = 3             # x, y, z
UNITS = 16           # GRU state size
CODE_SCALE = 32.0    # codes per g: network input = code / 32 (exact in float)
TRAIN_PER_GESTURE = 600
TEST_PER_GESTURE = 100
CALIBRATION = 200
EPOCHS = 40


# ---- exp, sin and cos with the same bits on every machine ----------------------------------------
# numpy picks the kernels of np.exp, np.tanh, np.sin and np.cos by the CPU's SIMD features, and
# their last bits differ between them: trained on another machine, the GRU came out with other
# weights and other accuracies than examples/gru/README.md shows (94.8 % against 95.2 % held out
# with AVX2 on or off). These use only + - * / floor and ldexp, which IEEE arithmetic rounds the
# same everywhere (numpy does not fuse multiply-adds).

_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10   # ln 2 = hi + lo
_INV_LN2 = 1.44269504088896338700e+00


def exp(v):
    """e ** v, to within a few units in the last place: v = k ln 2 + r, |r| <= ln 2 / 2, and
    e ** r by its Taylor series to r ** 14 / 14!."""
    v = np.clip(np.asarray(v, np.float64), -700.0, 700.0)
    k = np.floor(v * _INV_LN2 + 0.5)
    r = (v - k * _LN2_HI) - k * _LN2_LO
    p = np.ones_like(r)
    for n in range(14, 0, -1):
        p = 1.0 + p * r / n
    return np.ldexp(p, k.astype(np.int64))


def tanh(v):
    return 2.0 / (1.0 + exp(-2.0 * np.asarray(v, np.float64))) - 1.0


def _sin_reduced(a):
    """sin a for |a| <= pi, by its Taylor series to a ** 27 / 27!."""
    term, total = a, a
    for n in range(3, 29, 2):
        term = -term * a * a / ((n - 1) * n)
        total = total + term
    return total


def sin(v):
    v = np.asarray(v, np.float64)
    return _sin_reduced(v - 2 * np.pi * np.floor(v / (2 * np.pi) + 0.5))


def cos(v):
    return sin(np.asarray(v, np.float64) + np.pi / 2)


# ---- the data ---------------------------------------------------------------------------------

def sequences(rng, gesture, count):
    """[count, STEPS, AXES] int8 codes of one gesture."""
    t = np.arange(STEPS)[None, :]
    column = lambda lo, hi: rng.uniform(lo, hi, (count, 1))
    tilt = rng.randn(count, 3) * 0.3 + np.array([0.0, 0.0, 1.0])      # gravity, g
    g = tilt[:, None, :] + column(-0.02, 0.02)[:, :, None] * t[:, :, None]   # slow drift
    x = np.zeros((count, STEPS, AXES))
    if gesture in ("circle_cw", "circle_ccw"):
        amplitude = column(0.3, 0.9)
        phase = column(0, 2 * np.pi)
        speed = column(0.5, 1.6) * 2 * np.pi / STEPS                    # 0.5 to 1.6 turns
        angle = phase + speed * t
        sign = -1.0 if gesture == "circle_cw" else 1.0
        x[:, :, 0] = amplitude * cos(angle)
        x[:, :, 1] = sign * amplitude * sin(angle) * column(0.7, 1.3)  # an ellipse, more or less
    elif gesture == "shake":
        x[:, :, 2] = column(0.3, 1.0) * sin(column(0, 2 * np.pi) + column(2.5, 3.1) * t)
    elif gesture != "idle":
        raise ValueError(gesture)
    x += g + column(0.05, 0.2)[:, :, None] * rng.randn(count, STEPS, AXES)   # sensor noise
    return np.clip(np.round(x * CODE_SCALE), -128, 127).astype(np.int8)


def make_data(seed=0):
    """(train codes, train labels, test codes, test labels), each set shuffled."""
    rng = np.random.RandomState(seed)

    def one_set(per_gesture):
        codes = np.concatenate([sequences(rng, g, per_gesture) for g in GESTURES])
        labels = np.repeat(np.arange(len(GESTURES)), per_gesture)
        order = rng.permutation(len(labels))
        return codes[order], labels[order]

    train_codes, train_labels = one_set(TRAIN_PER_GESTURE)
    test_codes, test_labels = one_set(TEST_PER_GESTURE)
    return train_codes, train_labels, test_codes, test_labels


def network_input(codes):
    """What the network reads: code / 32, float32 (exact)."""
    return (codes.astype(np.float32) / np.float32(CODE_SCALE)).astype(np.float32)


# ---- the GRU in numpy -------------------------------------------------------------------------

def sigmoid(v):
    return 1.0 / (1.0 + exp(-v))


def init_weights(rng):
    glorot = lambda fan_in, fan_out: rng.uniform(-1, 1, (fan_in, fan_out)) * np.sqrt(6.0 / (fan_in + fan_out))
    return {"wx": glorot(AXES, 3 * UNITS), "bx": np.zeros(3 * UNITS),            # gates z, r, n
            "wh": glorot(UNITS, 3 * UNITS), "bh": np.zeros(3 * UNITS),
            "wo": glorot(UNITS, len(GESTURES)), "bo": np.zeros(len(GESTURES))}


def forward(p, x, cache=None):
    """Logits [N, gestures] of the float model for inputs x [N, STEPS, AXES]."""
    h = np.zeros((len(x), UNITS))
    for t in range(STEPS):
        gx = x[:, t] @ p["wx"] + p["bx"]
        gh = h @ p["wh"] + p["bh"]
        z = sigmoid(gx[:, :UNITS] + gh[:, :UNITS])
        r = sigmoid(gx[:, UNITS:2 * UNITS] + gh[:, UNITS:2 * UNITS])
        n = tanh(gx[:, 2 * UNITS:] + r * gh[:, 2 * UNITS:])
        if cache is not None:
            cache.append((x[:, t], h, z, r, n, gh[:, 2 * UNITS:]))
        h = z * h + (1 - z) * n
    if cache is not None:
        cache.append(h)
    return h @ p["wo"] + p["bo"]


def gradients(p, x, y):
    """Mean cross-entropy gradients of every weight (backpropagation through time)."""
    cache = []
    logits = forward(p, x, cache)
    probs = exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1
    dlogits = probs / len(y)
    h_last = cache.pop()
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    grads["wo"], grads["bo"] = h_last.T @ dlogits, dlogits.sum(0)
    dh = dlogits @ p["wo"].T
    for x_t, h, z, r, n, gh_n in reversed(cache):
        dz = dh * (h - n) * z * (1 - z)
        da = dh * (1 - z) * (1 - n * n)
        dr = da * gh_n * r * (1 - r)
        dgx = np.concatenate([dz, dr, da], axis=1)
        dgh = np.concatenate([dz, dr, da * r], axis=1)
        grads["wx"] += x_t.T @ dgx
        grads["bx"] += dgx.sum(0)
        grads["wh"] += h.T @ dgh
        grads["bh"] += dgh.sum(0)
        dh = dh * z + dgh @ p["wh"].T
    return grads


def train(x, y, epochs=EPOCHS, seed=1):
    rng = np.random.RandomState(seed)
    p = init_weights(rng)
    state, step = {}, 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 32):
            batch = order[start:start + 32]
            step += 1
            for k, grad in gradients(p, x[batch], y[batch]).items():     # Adam
                m, v = state.get(k, (np.zeros_like(grad), np.zeros_like(grad)))
                m = 0.9 * m + 0.1 * grad
                v = 0.999 * v + 0.001 * grad * grad
                state[k] = (m, v)
                p[k] -= 0.01 * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return p


def accuracy(p, codes, labels):
    return float((forward(p, network_input(codes).astype(np.float64)).argmax(axis=1) == labels).mean())


# ---- the model as TFLite writes an unrolled Keras GRU ----------------------------------------

def gru_model(p):
    """The trained GRU as tinynet IR, the ops and layouts of TFLite (FULLY_CONNECTED weights are
    [units, inputs]), ready for tflite_writer."""
    tensors, ops = [], []
    f32 = lambda v: np.asarray(v, np.float32)

    def tensor(name, shape, data=None, dtype="float32"):
        t = Tensor(index=len(tensors), name=name, shape=tuple(shape), dtype=dtype,
                   data=None if data is None else np.ascontiguousarray(data).astype(dtype).reshape(shape))
        tensors.append(t)
        return t.index

    def op(opcode, inputs, outputs, **options):
        ops.append(Op(len(ops), opcode, list(inputs), list(outputs), options))
        return outputs[0] if len(outputs) == 1 else outputs

    fc_options = {"fused_activation_function": "NONE", "weights_format": 0, "keep_num_dims": False}
    no_activation = {"fused_activation_function": "NONE"}
    sequence = tensor("gesture", (1, STEPS, AXES))
    steps = op("UNPACK", [sequence], [tensor(f"gru/step{t}/x", (1, AXES)) for t in range(STEPS)],
               num=STEPS, axis=1)
    wx = tensor("gru/kernel", (3 * UNITS, AXES), f32(p["wx"].T))
    bx = tensor("gru/input_bias", (3 * UNITS,), f32(p["bx"]))
    wh = tensor("gru/recurrent_kernel", (3 * UNITS, UNITS), f32(p["wh"].T))
    bh = tensor("gru/recurrent_bias", (3 * UNITS,), f32(p["bh"]))
    split_axis = tensor("gru/split_axis", (), np.int32(1), "int32")
    one = tensor("gru/one", (), f32(1.0))
    h = None
    for t in range(STEPS):
        name = lambda what: f"gru/step{t}/{what}"
        gate = lambda what: tensor(name(what), (1, UNITS))
        gx = op("FULLY_CONNECTED", [steps[t], wx, bx], [tensor(name("input_projection"), (1, 3 * UNITS))],
                **fc_options)
        xz, xr, xn = op("SPLIT", [split_axis, gx], [gate("xz"), gate("xr"), gate("xn")], num_splits=3)
        if h is None:      # h0 = 0: the converter folds h0 @ U + c into c, and z * h0 away
            hz, hr, hn = (tensor(name(f"h{g}"), (1, UNITS), f32(p["bh"][k * UNITS:(k + 1) * UNITS]))
                          for k, g in enumerate("zrn"))
        else:
            gh = op("FULLY_CONNECTED", [h, wh, bh], [tensor(name("recurrent_projection"), (1, 3 * UNITS))],
                    **fc_options)
            hz, hr, hn = op("SPLIT", [split_axis, gh], [gate("hz"), gate("hr"), gate("hn")], num_splits=3)
        z = op("LOGISTIC", [op("ADD", [xz, hz], [gate("z_pre")], **no_activation)], [gate("z")])
        r = op("LOGISTIC", [op("ADD", [xr, hr], [gate("r_pre")], **no_activation)], [gate("r")])
        rhn = op("MUL", [r, hn], [gate("r_hn")], **no_activation)
        n = op("TANH", [op("ADD", [xn, rhn], [gate("n_pre")], **no_activation)], [gate("n")])
        keep = op("SUB", [one, z], [gate("one_minus_z")], **no_activation)
        new = op("MUL", [keep, n], [gate("new_part")], **no_activation)
        if h is None:
            h = new
        else:
            old = op("MUL", [z, h], [gate("old_part")], **no_activation)
            h = op("ADD", [old, new], [gate("h")], **no_activation)
    logits = op("FULLY_CONNECTED", [h, tensor("dense/kernel", (len(GESTURES), UNITS), f32(p["wo"].T)),
                                    tensor("dense/bias", (len(GESTURES),), f32(p["bo"]))],
                [tensor("logits", (1, len(GESTURES)))], **fc_options)
    probs = op("SOFTMAX", [logits], [tensor("probabilities", (1, len(GESTURES)))], beta=1.0)
    return Model(path="gru_float.tflite", sha256="", tensors=tensors, ops=ops, inputs=[sequence], outputs=[probs],
                 description="gesture GRU trained by examples/gru/train.py")


def write_header(path, codes, labels):
    rows = ",\n".join("  {" + ", ".join("{" + ",".join(str(int(v)) for v in step) + "}" for step in seq) + "}"
                      for seq in codes)
    text = ("// Generated by examples/gru/train.py: the held-out gestures, one signed byte per axis and step\n"
            "// (1/32 g per step of the code; the network reads code / 32), and their labels.\n"
            "#pragma once\n\n#include <cstdint>\n\nnamespace gru_data {\n\n"
            f"inline constexpr int steps = {STEPS};\ninline constexpr int axes = {AXES};\n"
            f"inline constexpr float code_scale = {CODE_SCALE:.1f}f;  // network input = code / code_scale\n"
            f"inline constexpr int gesture_count = {len(GESTURES)};\n"
            "inline constexpr const char* gestures[gesture_count] = {" + ", ".join(f'"{g}"' for g in GESTURES) + "};\n"
            f"inline constexpr int test_count = {len(labels)};\n"
            f"inline constexpr std::int8_t test_codes[test_count][steps][axes] = {{\n{rows}}};\n"
            "inline constexpr std::uint8_t test_labels[test_count] = {" + ",".join(str(int(v)) for v in labels) + "};\n"
            "\n}  // namespace gru_data\n")
    with open(path, "w") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    train_codes, train_labels, test_codes, test_labels = make_data()
    p = train(network_input(train_codes).astype(np.float64), train_labels)
    with open(os.path.join(args.out_dir, "gru_float.tflite"), "wb") as f:
        f.write(write_model(gru_model(p)))
    np.savez(os.path.join(args.out_dir, "gru_weights.npz"), **p)
    np.savez(os.path.join(args.out_dir, "calib.npz"), x=network_input(train_codes[:CALIBRATION]))
    np.savez(os.path.join(args.out_dir, "test.npz"), codes=test_codes, labels=test_labels)
    write_header(os.path.join(args.out_dir, "gru_test_set.hpp"), test_codes, test_labels)
    print(f"train.py: GRU {AXES}x{STEPS} -> {UNITS} units -> {len(GESTURES)} gestures trained on "
          f"{len(train_labels)} sequences ({EPOCHS} epochs): float accuracy {100 * accuracy(p, train_codes, train_labels):.1f} % "
          f"on them, {100 * accuracy(p, test_codes, test_labels):.1f} % on the {len(test_labels)} held-out; "
          f"wrote {args.out_dir}")


if __name__ == "__main__":
    main()
