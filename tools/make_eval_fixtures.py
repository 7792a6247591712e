#!/usr/bin/env python3
"""Writes the fixtures of the evaluation and logging tests:

Tests/Fixtures/tfevents_python.json (for TFEventsTests.swift): an event file written by the
`tensorboard` package's own EventFileWriter (file-version event, then scalar events with fixed
wall times), as a byte list, with the scalars it holds and the serialized bytes of each Event
(tensorboard.compat.proto), so the Swift writer's bytes and reader can be checked against them.

Tests/Fixtures/linear_probe.json: a small multinomial logistic regression solved
independently, for Tests/SimCLRTests/LinearProbeTests.swift.

Data: 5 overlapping Gaussian classes in 8 dimensions with very different feature scales and
offsets (so the standardisation matters), 150 train / 60 eval samples, stored as float32.
Objective, as bench/torch_simclr_train.py `linear_probe`: features standardised with the train
mean and unbiased std (clamp 1e-8); f(W, b) = mean CE(X W + b, y) + (l2 / 2) ||W||^2, float64.
Solved with scipy.optimize.minimize(L-BFGS-B, analytic gradient, gtol 1e-13), and cross-checked
with the reference's torch.optim.LBFGS(strong_wolfe) setup. Two cases: l2 = 1e-4 (the
reference's value) and l2 = 0.05 (well conditioned, so W itself is pinned down tightly).

    python3 tools/make_eval_fixtures.py
"""
import json
import os

import numpy as np
import scipy.optimize
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "linear_probe.json")
N_TRAIN, N_EVAL, D, C = 150, 60, 8, 5


def make_data(rng):
    means = rng.normal(0, 1.0, size=(C, D))
    scale = np.exp(rng.uniform(np.log(0.05), np.log(20), size=D))
    offset = rng.uniform(-5, 5, size=D)

    def draw(n):
        y = rng.integers(0, C, size=n)
        x = (means[y] + rng.normal(0, 1.2, size=(n, D))) * scale + offset
        return x.astype(np.float32), y.astype(np.int64)

    return draw(N_TRAIN), draw(N_EVAL)


def standardise(xtr, xev):
    x = xtr.astype(np.float64)
    mean = x.mean(0)
    std = np.maximum(x.std(0, ddof=1), 1e-8)
    return (x - mean) / std, (xev.astype(np.float64) - mean) / std, mean, std


def objective(theta, x, y, l2):
    n = len(y)
    w = theta[: D * C].reshape(D, C)
    b = theta[D * C:]
    z = x @ w + b
    z = z - z.max(1, keepdims=True)
    p = np.exp(z)
    s = p.sum(1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - z[np.arange(n), y]) + 0.5 * l2 * np.sum(w * w)
    p /= s
    p[np.arange(n), y] -= 1
    p /= n
    return loss, np.concatenate([(x.T @ p + l2 * w).ravel(), p.sum(0)])


def torch_reference(x, y, l2):
    """The bench script's probe (history 50, strong Wolfe, 500 iterations) on the same data."""
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    W = torch.zeros(D, C, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(C, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1.0, max_iter=500, max_eval=625, tolerance_grad=1e-9,
                            tolerance_change=1e-12, history_size=50, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(xt @ W + b, yt) + 0.5 * l2 * (W * W).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (F.cross_entropy(xt @ W + b, yt) + 0.5 * l2 * (W * W).sum()).item()


def topk(z, y, k):
    # rank = number of classes with a strictly higher score, or equal and a lower index
    zy = z[np.arange(len(y)), y][:, None]
    idx = np.arange(z.shape[1])[None, :]
    rank = ((z > zy) | ((z == zy) & (idx < y[:, None]))).sum(1)
    return 100.0 * np.mean(rank < k)


def tensor(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "data": [float(v) for v in a.ravel()]}


def tfevents_fixture():
    import glob
    import tempfile

    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    scalars = [("train/loss", 0, 6.25), ("train/loss", 50, 5.125), ("train/top1", 50, 0.3),
               ("knn/top1", 156, 41.5), ("train/lr", 300, 1e-4)]
    events = []
    with tempfile.TemporaryDirectory() as d:
        w = EventFileWriter(d)
        for i, (tag, step, value) in enumerate(scalars):
            ev = event_pb2.Event(wall_time=1700000000.5 + i, step=step,
                                 summary=summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]))
            w.add_event(ev)
            events.append(list(ev.SerializeToString()))
        w.close()
        path, = glob.glob(os.path.join(d, "events.out.tfevents.*"))
        data = list(open(path, "rb").read())
    out = os.path.join(os.path.dirname(OUT), "tfevents_python.json")
    with open(out, "w") as fh:
        json.dump({"bytes": data, "event_bytes": events,
                   "scalars": [[t, s, float(np.float32(v))] for t, s, v in scalars],
                   "meta": {"generator": "tools/make_eval_fixtures.py", "writer": "tensorboard EventFileWriter"}}, fh)


def main():
    tfevents_fixture()
    rng = np.random.default_rng(20260501)
    (xtr, ytr), (xev, yev) = make_data(rng)
    str_, sev, mean, std = standardise(xtr, xev)
    out = {"x_train": tensor(xtr), "y_train": tensor(ytr), "x_eval": tensor(xev), "y_eval": tensor(yev),
           "mean": tensor(mean), "std": tensor(std)}
    meta = {"generator": "tools/make_eval_fixtures.py", "classes": C, "cases": {}}
    for name, l2 in (("l2_small", 1e-4), ("l2_large", 0.05)):
        res = scipy.optimize.minimize(objective, np.zeros(D * C + C), args=(str_, ytr, l2), jac=True,
                                      method="L-BFGS-B", options={"gtol": 1e-13, "ftol": 0, "maxiter": 20000,
                                                                  "maxcor": 30})
        loss, grad = objective(res.x, str_, ytr, l2)
        w = res.x[: D * C].reshape(D, C)
        b = res.x[D * C:]
        ztr, zev = str_ @ w + b, sev @ w + b
        torch_loss = torch_reference(str_, ytr, l2)
        assert abs(torch_loss - loss) < 1e-8, (torch_loss, loss)

        def margin(z):
            s = np.sort(z, 1)
            return float(np.min(s[:, -1] - s[:, -2]))

        out[f"{name}_W"] = tensor(w)
        out[f"{name}_b"] = tensor(b)
        out[f"{name}_train_pred"] = tensor(ztr.argmax(1))
        out[f"{name}_eval_pred"] = tensor(zev.argmax(1))
        meta["cases"][name] = {
            "l2": l2, "loss": float(loss), "torch_lbfgs_loss": float(torch_loss),
            "max_abs_grad": float(np.abs(grad).max()), "scipy_iterations": int(res.nit),
            "train_top1": topk(ztr, ytr, 1), "train_top5": topk(ztr, ytr, 5),
            "eval_top1": topk(zev, yev, 1), "eval_top5": topk(zev, yev, 5), "eval_top2": topk(zev, yev, 2),
            "min_top2_margin_train": margin(ztr), "min_top2_margin_eval": margin(zev),
        }
    out["meta"] = meta
    with open(OUT, "w") as fh:
        json.dump(out, fh)
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
