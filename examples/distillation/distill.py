#!/usr/bin/env python3
"""Knowledge distillation on scikit-learn's digits (8x8 images, 10 classes), numpy only.

1. trains a teacher MLP 64-128-128-10;
2. trains a small student MLP 64-16-10 on a mix of the hard labels and the teacher's
   temperature-softened outputs (Hinton, Vinyals, Dean 2015, "Distilling the Knowledge in
   a Neural Network");
3. trains the same student (same initial weights, same batches) on the hard labels only,
   for comparison;
4. writes into --out: teacher.onnx, student.onnx (Gemm + Relu + ... + Softmax, input
   [1, 64] float32 pixels scaled to [0, 1]), calib.npz (x: 200 training images, for
   quantization), test.npz (x, y: the held-out images and labels), predictions.npz
   (the numpy forward pass's probabilities on test.npz, per model) and metrics.json.

Deterministic for a given --seed.  Runs in a few seconds on one core.
"""

import argparse
import json
import os
import sys

import numpy as np


# ---- data ------------------------------------------------------------------------------------

def load_data(seed, test_fraction=0.2):
    from sklearn.datasets import load_digits          # bundled with scikit-learn: no download
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)         # pixels 0..16 -> [0, 1]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    cut = int(round(len(x) * (1 - test_fraction)))
    train, test = order[:cut], order[cut:]
    return x[train], y[train], x[test], y[test]


# ---- an MLP in numpy ---------------------------------------------------------------------------

def init_mlp(sizes, rng):
    """He-initialised layers [(W [out, in], b [out]), ...]."""
    return [(rng.normal(0, np.sqrt(2.0 / n_in), (n_out, n_in)).astype(np.float32),
             np.zeros(n_out, np.float32)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def forward(params, x):
    """Logits, and the activations every layer read (for backprop)."""
    acts = [x]
    h = x
    for k, (w, b) in enumerate(params):
        h = h @ w.T + b
        if k < len(params) - 1:
            h = np.maximum(h, 0)
        acts.append(h)
    return h, acts


def softmax(z, temperature=1.0):
    z = z / temperature
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def backward(params, acts, grad_logits):
    grads = []
    g = grad_logits
    for k in range(len(params) - 1, -1, -1):
        w, _ = params[k]
        grads.append((g.T @ acts[k], g.sum(axis=0)))
        if k:
            g = (g @ w) * (acts[k] > 0)
    return grads[::-1]


class Adam:
    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0
        self.m = [[np.zeros_like(p) for p in layer] for layer in params]
        self.v = [[np.zeros_like(p) for p in layer] for layer in params]

    def step(self, params, grads):
        self.t += 1
        out = []
        for layer, grad, ms, vs in zip(params, grads, self.m, self.v):
            new = []
            for p, g, m, v in zip(layer, grad, ms, vs):
                m *= self.b1
                m += (1 - self.b1) * g
                v *= self.b2
                v += (1 - self.b2) * g * g
                m_hat = m / (1 - self.b1 ** self.t)
                v_hat = v / (1 - self.b2 ** self.t)
                new.append((p - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(np.float32))
            out.append(tuple(new))
        return out


def distillation_grad(logits, labels, teacher_logits, temperature, alpha):
    """Gradient over the batch of the loss

        L = (1 - alpha) * CE(y, softmax(z)) + alpha * T^2 * CE(softmax(t / T), softmax(z / T))

    with z the student's logits, t the teacher's, y the one-hot labels.  The soft term's
    gradient is T^2 * (1/T) * (softmax(z/T) - softmax(t/T)); the T^2 factor keeps its size
    comparable to the hard term's as T changes (Hinton et al. 2015, section 2).  alpha = 0
    (or no teacher) is ordinary cross-entropy: softmax(z) - y.  Returns (loss, dL/dz),
    both averaged over the batch.
    """
    n = len(labels)
    onehot = np.eye(logits.shape[1], dtype=np.float32)[labels]
    p = softmax(logits)
    loss = (1 - alpha) * -np.mean(np.sum(onehot * np.log(p + 1e-12), axis=1))
    grad = (1 - alpha) * (p - onehot)
    if teacher_logits is not None and alpha > 0:
        q = softmax(logits, temperature)
        target = softmax(teacher_logits, temperature)
        loss += alpha * temperature ** 2 * -np.mean(np.sum(target * np.log(q + 1e-12), axis=1))
        grad = grad + alpha * temperature * (q - target)
    return loss, (grad / n).astype(np.float32)


def train(sizes, x, y, epochs, seed, teacher=None, temperature=4.0, alpha=0.0, lr=3e-3,
          batch=64, weight_decay=0.0):
    """Minibatch Adam; the same seed gives the same initial weights and batch order."""
    rng = np.random.default_rng(seed)
    params = init_mlp(sizes, rng)
    opt = Adam(params, lr)
    teacher_logits = forward(teacher, x)[0] if teacher is not None else None
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            logits, acts = forward(params, x[idx])
            _, g = distillation_grad(logits, y[idx], None if teacher_logits is None else teacher_logits[idx],
                                     temperature, alpha)
            grads = backward(params, acts, g)
            if weight_decay:
                grads = [(gw + weight_decay * w, gb) for (gw, gb), (w, _) in zip(grads, params)]
            params = opt.step(params, grads)
    return params


def accuracy(params, x, y):
    return float(np.mean(np.argmax(forward(params, x)[0], axis=1) == y))


# ---- ONNX export -------------------------------------------------------------------------------

def export_onnx(params, path, name):
    """Gemm (transB=1: weights stored [out, in] as in PyTorch's nn.Linear) + Relu ... + Softmax."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    nodes, inits = [], []
    h = "input"
    for k, (w, b) in enumerate(params):
        inits += [numpy_helper.from_array(w, f"fc{k}.weight"), numpy_helper.from_array(b, f"fc{k}.bias")]
        out = f"fc{k}"
        nodes.append(helper.make_node("Gemm", [h, f"fc{k}.weight", f"fc{k}.bias"], [out],
                                      name=f"fc{k}", transB=1))
        h = out
        if k < len(params) - 1:
            nodes.append(helper.make_node("Relu", [h], [f"relu{k}"], name=f"relu{k}"))
            h = f"relu{k}"
    nodes.append(helper.make_node("Softmax", [h], ["probabilities"], name="softmax", axis=-1))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, params[0][0].shape[1]])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, params[-1][0].shape[0]])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="tinynet-distill",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


# ---- main --------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"),
                        help="output folder (default: ./out next to this script)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--teacher-epochs", type=int, default=40)
    parser.add_argument("--student-epochs", type=int, default=150)
    parser.add_argument("--temperature", type=float, default=4.0)
    parser.add_argument("--alpha", type=float, default=0.7,
                        help="weight of the soft (teacher) term; 1 - alpha weighs the labels")
    parser.add_argument("--teacher", default="64,128,128,10", help="teacher layer sizes")
    parser.add_argument("--student", default="64,16,10", help="student layer sizes")
    parser.add_argument("--calib", type=int, default=200, help="training images in calib.npz")
    args = parser.parse_args(argv)

    teacher_sizes = [int(s) for s in args.teacher.split(",")]
    student_sizes = [int(s) for s in args.student.split(",")]
    x_train, y_train, x_test, y_test = load_data(args.seed)
    os.makedirs(args.out, exist_ok=True)

    teacher = train(teacher_sizes, x_train, y_train, args.teacher_epochs, args.seed + 1,
                    weight_decay=1e-4)
    # The same student seed for both runs: same initial weights, same batch order.
    distilled = train(student_sizes, x_train, y_train, args.student_epochs, args.seed + 2,
                      teacher=teacher, temperature=args.temperature, alpha=args.alpha)
    baseline = train(student_sizes, x_train, y_train, args.student_epochs, args.seed + 2)

    metrics = {
        "teacher": accuracy(teacher, x_test, y_test),
        "student_distilled": accuracy(distilled, x_test, y_test),
        "student_baseline": accuracy(baseline, x_test, y_test),
        "teacher_parameters": int(sum(w.size + b.size for w, b in teacher)),
        "student_parameters": int(sum(w.size + b.size for w, b in distilled)),
        "train_images": int(len(x_train)), "test_images": int(len(x_test)),
        "temperature": args.temperature, "alpha": args.alpha, "seed": args.seed,
    }
    export_onnx(teacher, os.path.join(args.out, "teacher.onnx"), "teacher")
    export_onnx(distilled, os.path.join(args.out, "student.onnx"), "student")
    export_onnx(baseline, os.path.join(args.out, "student_baseline.onnx"), "student_baseline")
    calib = x_train[np.random.default_rng(args.seed + 3).permutation(len(x_train))[:args.calib]]
    np.savez(os.path.join(args.out, "calib.npz"), x=calib.astype(np.float32))
    np.savez(os.path.join(args.out, "test.npz"), x=x_test.astype(np.float32), y=y_test)
    np.savez(os.path.join(args.out, "predictions.npz"),
             teacher=softmax(forward(teacher, x_test)[0]).astype(np.float32),
             student=softmax(forward(distilled, x_test)[0]).astype(np.float32),
             student_baseline=softmax(forward(baseline, x_test)[0]).astype(np.float32))
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")
    print(f"teacher {'-'.join(map(str, teacher_sizes))}: {metrics['teacher']:.4f} "
          f"({metrics['teacher_parameters']} parameters)")
    print(f"student {'-'.join(map(str, student_sizes))} distilled: {metrics['student_distilled']:.4f}, "
          f"without teacher: {metrics['student_baseline']:.4f} ({metrics['student_parameters']} parameters)")
    print(f"wrote {args.out}/{{teacher,student,student_baseline}}.onnx, calib.npz, test.npz, "
          f"predictions.npz, metrics.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
