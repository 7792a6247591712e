#!/usr/bin/env python3
"""Reference values for swift-simclr's NT-Xent loss (Tests/Fixtures/ntxent_*.json).

PyTorch (float64, autograd) computes, for z of V views of N images laid out as rows v*N + i:
loss (mean over the V*N anchors of the mean over the V-1 positives of -log softmax, self masked),
dL/dz, and the contrastive top-1 / top-5 accuracy (an anchor is a hit at k when one of its
positives is among its k highest-scoring other rows, via torch.topk). For V = 2 the loss is also
checked against the usual cross-entropy formulation with labels.

z is drawn as float32 values (image embedding + per-view noise, so accuracies are neither 0 nor 1).
Run from the repository root: python3 tools/make_ntxent_fixtures.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")


def reference(z, views, tau):
    z = z.clone().requires_grad_(True)
    m = z.shape[0]
    n = m // views
    u = F.normalize(z, dim=1)
    eye = torch.eye(m, dtype=torch.bool)
    logits = (u @ u.T / tau).masked_fill(eye, float("-inf"))
    image = torch.arange(m) % n
    positive = (image[:, None] == image[None, :]) & ~eye
    logp = F.log_softmax(logits, dim=1)
    per_anchor = -torch.where(positive, logp, torch.zeros_like(logp)).sum(1) / (views - 1)
    loss = per_anchor.mean()
    loss.backward()
    top = logits.detach().topk(5, dim=1).indices
    hits = positive.gather(1, top)
    top1 = hits[:, :1].any(1).double().mean().item()
    top5 = hits.any(1).double().mean().item()
    if views == 2:
        # The familiar form: every anchor's single positive is the other view of its image.
        labels = (torch.arange(m) + n) % m
        ce = F.cross_entropy(logits.detach(), labels)
        assert abs(ce.item() - loss.item()) < 1e-12, (ce.item(), loss.item())
    return loss.item(), top1, top5, z.grad


def case(name, views, n, d, tau, noise, seed):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, d))
    z = np.concatenate([base + noise * rng.standard_normal((n, d)) for _ in range(views)])
    z = z.astype(np.float32).astype(np.float64)
    loss, top1, top5, grad = reference(torch.from_numpy(z), views, tau)
    assert 0 < top1 < 1, (name, top1)
    print(f"{name}: V={views} N={n} D={d} tau={tau} loss={loss:.6f} top1={top1:.4f} top5={top5:.4f}")
    out = {
        "z": {"shape": [views * n, d], "data": z.ravel().tolist()},
        "grad": {"shape": [views * n, d], "data": grad.numpy().ravel().tolist()},
        "loss": {"shape": [1], "data": [loss]},
        "accuracy": {"shape": [2], "data": [top1, top5]},
        "meta": {"views": views, "images": n, "dim": d, "temperature": tau, "noise": noise, "seed": seed},
    }
    with open(os.path.join(OUT, f"ntxent_{name}.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    case("v2", views=2, n=12, d=8, tau=0.5, noise=0.9, seed=1)
    case("v3", views=3, n=8, d=6, tau=0.2, noise=1.4, seed=2)
