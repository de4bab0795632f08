#!/usr/bin/env python3
"""Trains two float models on scikit-learn's bundled digits data set (8x8 images, 10 classes):

- digits_mlp.pkl: a scikit-learn MLPClassifier 64-32-10 (relu), pickled;
- digits_cnn.tflite: a small CNN trained here with numpy (conv 3x3x8 relu, max pool 2, conv
  3x3x16 relu, max pool 2, fully connected 10, softmax), written as a float32 .tflite;

and the data the generator and the C++ program use:
- calib.npz: 'x', 300 training images (the --quantize calibration set);
- test.npz: 'x', 'y', the 397 held-out images and labels, and 'group': each image's ink band
  (light, medium or heavy strokes: the thirds of the training images' total ink), a population
  split that is not a class, for --eval's per-group audit;
- digits_test_set.hpp: the same test images (pixels 0..16) and labels as C++ arrays.

Everything is seeded: the same files come out on every run (on the same numpy/scikit-learn).
Pixels are scaled to [0, 1] (value / 16). The data ships with python3-sklearn: no download.

usage: train.py OUT_DIR [--epochs N]
"""

import argparse
import os
import pickle
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))

from tinynet_py.ir import Model, Op, Tensor  # noqa: E402
from tinynet_py.tflite_writer import write_model  # noqa: E402


def load_split():
    from sklearn.datasets import load_digits
    data = load_digits()
    order = np.random.RandomState(0).permutation(len(data.target))
    train, test = order[:1400], order[1400:]
    pixels = data.data.astype(np.uint8)                  # 0..16
    return pixels[train], data.target[train], pixels[test], data.target[test]


def train_mlp(x, y):
    from sklearn.neural_network import MLPClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier((32,), max_iter=300, random_state=0).fit(x, y)


# ---- a small CNN in numpy (NHWC, SAME padding) ----------------------------------------------

def im2col(x, k=3):
    """[N, H, W, C] -> [N, H, W, k*k*C] patches with zero padding (SAME), in (kh, kw, c) order."""
    n, h, w, c = x.shape
    p = k // 2
    padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    cols = [padded[:, i:i + h, j:j + w, :] for i in range(k) for j in range(k)]
    return np.concatenate(cols, axis=3)


def col2im(cols, shape, k=3):
    n, h, w, c = shape
    p = k // 2
    padded = np.zeros((n, h + 2 * p, w + 2 * p, c))
    idx = 0
    for i in range(k):
        for j in range(k):
            padded[:, i:i + h, j:j + w, :] += cols[..., idx * c:(idx + 1) * c]
            idx += 1
    return padded[:, p:p + h, p:p + w, :]


def maxpool(x):
    n, h, w, c = x.shape
    blocks = x.reshape(n, h // 2, 2, w // 2, 2, c)
    out = blocks.max(axis=(2, 4))
    mask = blocks == out[:, :, None, :, None, :]
    return out, mask


def unpool(grad, mask):
    n, h, _, w, _, c = mask.shape
    return (mask * grad[:, :, None, :, None, :]).reshape(n, h * 2, w * 2, c)


class CNN:
    def __init__(self, rng):
        he = lambda fan_in, *shape: rng.randn(*shape) * np.sqrt(2.0 / fan_in)
        self.p = {"w1": he(9, 9, 8), "b1": np.zeros(8), "w2": he(72, 72, 16), "b2": np.zeros(16),
                  "w3": he(64, 64, 10), "b3": np.zeros(10)}

    def forward(self, x):
        p, cache = self.p, {}
        cache["c1"] = im2col(x)
        z1 = np.maximum(cache["c1"] @ p["w1"] + p["b1"], 0)
        cache["z1"] = z1
        a1, cache["m1"] = maxpool(z1)
        cache["c2"] = im2col(a1)
        cache["a1_shape"] = a1.shape
        z2 = np.maximum(cache["c2"] @ p["w2"] + p["b2"], 0)
        cache["z2"] = z2
        a2, cache["m2"] = maxpool(z2)
        flat = a2.reshape(len(x), -1)                  # (h, w, c) order, like TFLite's RESHAPE
        cache["flat"] = flat
        logits = flat @ p["w3"] + p["b3"]
        return logits, cache

    def step(self, x, y, lr, state, t):
        logits, c = self.forward(x)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        g = probs
        g[np.arange(len(y)), y] -= 1
        g /= len(y)                                      # d(mean cross-entropy)/d(logits)
        grads = {"w3": c["flat"].T @ g, "b3": g.sum(0)}
        ga2 = (g @ self.p["w3"].T).reshape(len(x), 2, 2, 16)
        gz2 = unpool(ga2, c["m2"]) * (c["z2"] > 0)
        grads["w2"] = c["c2"].reshape(-1, 72).T @ gz2.reshape(-1, 16)
        grads["b2"] = gz2.sum(axis=(0, 1, 2))
        ga1 = col2im(gz2 @ self.p["w2"].T, c["a1_shape"])
        gz1 = unpool(ga1, c["m1"]) * (c["z1"] > 0)
        grads["w1"] = c["c1"].reshape(-1, 9).T @ gz1.reshape(-1, 8)
        grads["b1"] = gz1.sum(axis=(0, 1, 2))
        for k, grad in grads.items():                  # Adam
            m, v = state.setdefault(k, (np.zeros_like(grad), np.zeros_like(grad)))
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad * grad
            state[k] = (m, v)
            self.p[k] -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)

    def predict(self, x):
        return self.forward(x)[0].argmax(axis=1)


def train_cnn(x, y, epochs):
    rng = np.random.RandomState(1)
    net = CNN(rng)
    state, t = {}, 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 32):
            batch = order[start:start + 32]
            t += 1
            net.step(x[batch], y[batch], 0.003, state, t)
    return net


def cnn_to_model(net):
    """The trained CNN as tinynet IR with TFLite's layouts (conv weights OHWI, FC [units, in])."""
    tensors, ops = [], []

    def tensor(name, shape, data=None, dtype="float32"):
        t = Tensor(index=len(tensors), name=name, shape=tuple(shape), dtype=dtype,
                   data=None if data is None else np.ascontiguousarray(data).astype(dtype))
        tensors.append(t)
        return t.index

    conv = {"padding": "SAME", "stride_w": 1, "stride_h": 1, "fused_activation_function": "RELU",
            "dilation_w_factor": 1, "dilation_h_factor": 1}
    pool = {"padding": "VALID", "stride_w": 2, "stride_h": 2, "filter_width": 2, "filter_height": 2,
            "fused_activation_function": "NONE"}
    p = net.p
    x = tensor("image", (1, 8, 8, 1))
    w1 = p["w1"].T.reshape(8, 3, 3, 1)                   # [kh*kw*c, o] -> [o, kh, kw, c]
    c1 = tensor("conv1", (1, 8, 8, 8))
    ops.append(Op(0, "CONV_2D", [x, tensor("conv1/w", w1.shape, w1), tensor("conv1/b", (8,), p["b1"])], [c1], dict(conv)))
    p1 = tensor("pool1", (1, 4, 4, 8))
    ops.append(Op(1, "MAX_POOL_2D", [c1], [p1], dict(pool)))
    w2 = p["w2"].T.reshape(16, 3, 3, 8)
    c2 = tensor("conv2", (1, 4, 4, 16))
    ops.append(Op(2, "CONV_2D", [p1, tensor("conv2/w", w2.shape, w2), tensor("conv2/b", (16,), p["b2"])], [c2], dict(conv)))
    p2 = tensor("pool2", (1, 2, 2, 16))
    ops.append(Op(3, "MAX_POOL_2D", [c2], [p2], dict(pool)))
    flat = tensor("flatten", (1, 64))
    ops.append(Op(4, "RESHAPE", [p2, tensor("flatten/shape", (2,), [1, 64], "int32")], [flat], {"new_shape": [1, 64]}))
    logits = tensor("logits", (1, 10))
    ops.append(Op(5, "FULLY_CONNECTED", [flat, tensor("dense/w", (10, 64), p["w3"].T), tensor("dense/b", (10,), p["b3"])],
                  [logits], {"fused_activation_function": "NONE", "weights_format": 0, "keep_num_dims": False}))
    probs = tensor("probabilities", (1, 10))
    ops.append(Op(6, "SOFTMAX", [logits], [probs], {"beta": 1.0}))
    return Model(path="digits_cnn.tflite", sha256="", tensors=tensors, ops=ops, inputs=[x], outputs=[probs],
                 description="digits CNN trained by examples/digits/train.py")


def write_test_header(path, pixels, labels):
    rows = ",\n".join("  {" + ", ".join(str(int(v)) for v in row) + "}" for row in pixels)
    text = (f"// The digits test split written by examples/digits/train.py: {len(labels)} 8x8 images,\n"
            "// pixels 0..16 (the network's input is pixel / 16), and their labels.\n#pragma once\n#include <cstdint>\n\n"
            f"namespace digits_data {{\ninline constexpr int test_count = {len(labels)};\n"
            f"inline constexpr std::uint8_t test_pixels[{len(labels)}][64] = {{\n{rows}}};\n"
            f"inline constexpr std::uint8_t test_labels[{len(labels)}] = {{"
            + ", ".join(str(int(v)) for v in labels) + "};\n}  // namespace digits_data\n")
    with open(path, "w") as f:
        f.write(text)


INK_BANDS = ("light", "medium", "heavy")


def ink_groups(px_train, px):
    """Each image's ink band: its total ink against the thirds (33rd and 67th percentiles) of the
    training images' total ink."""
    edges = np.percentile(px_train.sum(axis=1), [100 / 3, 200 / 3])
    return np.array(INK_BANDS)[np.searchsorted(edges, px.sum(axis=1), side="right")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", metavar="OUT_DIR")
    parser.add_argument("--epochs", type=int, default=25, help="CNN training epochs (default 25)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    px_train, y_train, px_test, y_test = load_split()
    x_train = (px_train / 16.0).astype(np.float32)
    x_test = (px_test / 16.0).astype(np.float32)

    mlp = train_mlp(x_train, y_train)
    with open(os.path.join(args.out, "digits_mlp.pkl"), "wb") as f:
        pickle.dump(mlp, f)
    print(f"MLP 64-32-10 (scikit-learn): float test accuracy {100 * mlp.score(x_test, y_test):.2f}%")

    cnn = train_cnn(x_train.reshape(-1, 8, 8, 1).astype(np.float64), y_train, args.epochs)
    accuracy = (cnn.predict(x_test.reshape(-1, 8, 8, 1).astype(np.float64)) == y_test).mean()
    with open(os.path.join(args.out, "digits_cnn.tflite"), "wb") as f:
        f.write(write_model(cnn_to_model(cnn)))
    print(f"CNN conv8-pool-conv16-pool-fc10 (numpy): float test accuracy {100 * accuracy:.2f}%")

    np.savez(os.path.join(args.out, "calib.npz"), x=x_train[:300])
    np.savez(os.path.join(args.out, "test.npz"), x=x_test, y=y_test.astype(np.int64),
             group=ink_groups(px_train, px_test))
    write_test_header(os.path.join(args.out, "digits_test_set.hpp"), px_test, y_test)
    print(f"wrote {args.out}/digits_mlp.pkl, digits_cnn.tflite, calib.npz, test.npz, digits_test_set.hpp")


if __name__ == "__main__":
    main()
