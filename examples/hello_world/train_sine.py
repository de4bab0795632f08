"""Trains the hello_world model and writes it as an int8 .tflite file: sine_int8.tflite.

A 1-16-16-1 MLP learns y = sin(x) on [0, 2*pi] (numpy only, fixed seed: the output file is the
same bytes on every run), then is quantized after training the TFLite way:
  * weights: int8, symmetric, one scale per output unit (scale = max|w_row| / 127, zero point 0);
  * biases: int32 with scale input_scale * weight_scale;
  * activations (input, hidden, output): int8, asymmetric, scale and zero point from the
    calibration range extended to include 0 (scale = (max - min) / 255,
    zero_point = round(-128 - min / scale)).
Usage: train_sine.py [OUTPUT.tflite]
"""

import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))

from tinynet_py import tflite_builder as fb  # noqa: E402

FULLY_CONNECTED = 9
FC_OPTIONS = 8  # BuiltinOptions.FullyConnectedOptions
RELU, NONE = 1, 0


def train(seed=1234, steps=6000, learning_rate=0.01):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 2 * np.pi, (1000, 1)).astype(np.float64)
    y = np.sin(x)
    sizes = [1, 16, 16, 1]
    weights = [rng.normal(0, np.sqrt(2.0 / a), (b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [np.zeros(b) for b in sizes[1:]]
    # Spread the first layer's ReLU kinks over the input range, and start the second layer's units
    # alive: without this most units die early and the fit stays piecewise linear in two pieces.
    biases[0] = -weights[0][:, 0] * rng.uniform(0, 2 * np.pi, sizes[1])
    biases[1] += 0.1
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in weights + biases]
    for step in range(1, steps + 1):
        # forward
        activations = [x]
        for i, (w, b) in enumerate(zip(weights, biases)):
            z = activations[-1] @ w.T + b
            activations.append(np.maximum(z, 0) if i < len(weights) - 1 else z)
        grad = 2 * (activations[-1] - y) / len(x)
        grads_w, grads_b = [], []
        for i in reversed(range(len(weights))):
            grads_w.insert(0, grad.T @ activations[i])
            grads_b.insert(0, grad.sum(axis=0))
            if i > 0:
                grad = (grad @ weights[i]) * (activations[i] > 0)
        # Adam
        for k, (p, g) in enumerate(zip(weights + biases, grads_w + grads_b)):
            m, v = moments[k]
            m[:] = 0.9 * m + 0.1 * g
            v[:] = 0.999 * v + 0.001 * g * g
            p -= learning_rate * 0.9995 ** step * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return [w.astype(np.float32) for w in weights], [b.astype(np.float32) for b in biases]


def forward_float(weights, biases, x):
    a = x
    for i, (w, b) in enumerate(zip(weights, biases)):
        a = a @ w.T + b
        if i < len(weights) - 1:
            a = np.maximum(a, 0)
    return a


def activation_quant(values):
    lo, hi = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
    scale = np.float32((hi - lo) / 255.0)
    zero_point = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return scale, zero_point


def build_model(weights, biases):
    calibration = np.linspace(0, 2 * np.pi, 256, dtype=np.float32).reshape(-1, 1)
    layer_inputs = [calibration]
    a = calibration
    for i, (w, b) in enumerate(zip(weights, biases)):
        a = a @ w.T + b
        if i < len(weights) - 1:
            a = np.maximum(a, 0)
        layer_inputs.append(a)
    act = [activation_quant(v) for v in layer_inputs]  # input, hidden 1, hidden 2, output

    tensors, buffers, ops = [], [], []
    tensors.append(fb.tensor((1, 1), "int8", name="x", scale=act[0][0], zero_point=act[0][1]))
    previous = 0
    for i, (w, b) in enumerate(zip(weights, biases)):
        w_scale = (np.abs(w).max(axis=1) / 127.0).astype(np.float32)
        w_scale[w_scale == 0] = 1.0
        wq = np.clip(np.round(w / w_scale[:, None]), -127, 127).astype(np.int8)
        b_scale = (np.float32(act[i][0]) * w_scale).astype(np.float32)
        bq = np.round(b / b_scale).astype(np.int32)
        buffers += [wq.tobytes(), bq.tobytes()]
        w_index, b_index = len(tensors), len(tensors) + 1
        tensors.append(fb.tensor(wq.shape, "int8", buffer=len(buffers) - 1, name=f"dense_{i}/weights",
                                 scale=w_scale, zero_point=np.zeros(len(w_scale), np.int64)))
        tensors.append(fb.tensor(bq.shape, "int32", buffer=len(buffers), name=f"dense_{i}/bias",
                                 scale=b_scale, zero_point=np.zeros(len(b_scale), np.int64)))
        out_scale, out_zero_point = act[i + 1]
        out_index = len(tensors)
        tensors.append(fb.tensor((1, w.shape[0]), "int8", name="y" if i == len(weights) - 1 else f"dense_{i}/out",
                                 scale=out_scale, zero_point=out_zero_point))
        activation = RELU if i < len(weights) - 1 else NONE
        ops.append(fb.operator(0, [previous, w_index, b_index], [out_index], FC_OPTIONS,
                               fb.T(f0=("int8", activation))))
        previous = out_index
    return fb.model(tensors, ops, [0], [previous], [FULLY_CONNECTED], buffers,
                    description="tinynet hello_world: sine, int8 (examples/hello_world/train_sine.py)")


def main():
    output = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "sine_int8.tflite")
    weights, biases = train()
    grid = np.linspace(0, 2 * np.pi, 200, dtype=np.float32).reshape(-1, 1)
    error = np.abs(forward_float(weights, biases, grid) - np.sin(grid)).max()
    data = build_model(weights, biases)
    with open(output, "wb") as f:
        f.write(data)
    print(f"wrote {output} ({len(data)} bytes); float model max |error| on [0, 2pi]: {error:.4f}")


if __name__ == "__main__":
    main()
