#!/usr/bin/env python3
"""10-step SimCLR training trajectory reference (Tests/Fixtures/trajectory.json).

A small SimCLR model (ResNet-18, CIFAR stem, width 1/8: 8-64 channels, h of 64; head
Linear(64,64)-ReLU-Linear(64,128)) starts from parameters drawn from swift-simclr's RandomState
(tools/simclr_random.py reproduces it bit for bit; the Swift test draws the same, so nothing but
the losses is stored) and is trained for 10 steps on fixed random inputs (2 views x 16 images of
16x16) with NT-Xent (tau 0.5) and SGD
(lr 0.01, momentum 0.9, weight decay 5e-4 on every parameter). Recorded: the loss before each
step in float64 (the reference) and PyTorch's float32 deviation from it (the yardstick for the
Swift test's tolerance).
Run: python3 tools/make_trajectory_fixture.py
"""
import copy
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(__file__)
src = open(os.path.join(HERE, "make_nn_fixtures.py")).read()
exec(src[src.index("class Basic(nn.Module)"):src.index("def encoder_case")])

import sys
sys.path.insert(0, HERE)
from simclr_random import RandomState  # noqa: E402
fixtures = os.path.join(HERE, "..", "Tests", "Fixtures")


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Net(Basic, [2, 2, 2, 2], 1 / 8, "cifar")
        self.head = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 128))

    def forward(self, x):
        return self.head(self.encoder(x))


def nt_xent(z, tau):
    n2 = z.shape[0]
    z = F.normalize(z, dim=1)
    logits = z @ z.t() / tau
    logits = logits.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
    targets = (torch.arange(n2) + n2 // 2) % n2
    return F.cross_entropy(logits, targets)


model = Model()
rng = RandomState(2026)


def draw(p, lo, hi):
    p.copy_(torch.from_numpy(rng.uniform(lo, hi, p.numel())).reshape(p.shape))


with torch.no_grad():
    # Drawn in named_parameters order, encoder then head (the Swift test draws the same):
    # conv weights U(+-sqrt(6 / fan_out)) (Kaiming's variance 2 / fan_out), BN gamma U(0.8, 1.2),
    # beta U(-0.2, 0.2), Linear weight and bias U(+-1 / sqrt(fan_in)).
    for name, p in model.encoder.named_parameters():
        if p.dim() == 4:
            a = (6.0 / (p.shape[0] * p.shape[2] * p.shape[3])) ** 0.5
            draw(p, -a, a)
        elif name.endswith("weight"):
            draw(p, 0.8, 1.2)
        else:
            draw(p, -0.2, 0.2)
    for lin in (model.head[0], model.head[2]):
        a = 1.0 / lin.in_features ** 0.5
        draw(lin.weight, -a, a)
        draw(lin.bias, -a, a)
    x = torch.from_numpy(rng.uniform(-1.5, 1.5, 32 * 3 * 16 * 16)).reshape(32, 3, 16, 16)
out = {}


def run(m, dtype):
    m = copy.deepcopy(m).to(dtype).train()
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        loss = nt_xent(m(x.to(dtype)), 0.5)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


l64, l32 = run(model, torch.float64), run(model, torch.float32)
out["losses64"] = {"shape": [10], "data": l64}
out["dev32"] = {"shape": [10], "data": [abs(a - b) for a, b in zip(l32, l64)]}
path = os.path.join(fixtures, "trajectory.json")
json.dump(out, open(path, "w"))
print(path, os.path.getsize(path), "bytes; losses", [round(v, 5) for v in l64], "max float32 dev", max(out["dev32"]["data"]))
