#!/usr/bin/env python3
"""Reference values for swift-simclr's optimizers and learning-rate schedule
(Tests/Fixtures/optim_updates.json, Tests/Fixtures/optim_schedule.json).

optim_updates: six small parameters (weights, a bias, BatchNorm scale/shift, an all-zero weight)
take 3 steps with fixed gradients and per-step learning rates, in float64:
  - SGD (plain, momentum, Nesterov, bias/BN excluded from decay) with torch.optim.SGD,
  - Adam / AdamW (plain and with exclusions) with torch.optim.Adam / AdamW,
  - LARS from the official SimCLR formula (google-research/simclr lars_optimizer.py, classic
    momentum), written out below since torch has no LARS: for weights g += wd*w and
    trust = eta*||w||/||g|| when both norms are > 0, else 1; biases and BN parameters get
    trust 1 and no decay; v = m*v + lr*trust*g; w -= v (Nesterov: w -= m*v + lr*trust*g).
Final values and the optimizer state (momentum buffers / Adam moments) are stored per case.

optim_schedule: linear warmup + cosine decay values (official SimCLR: lr = peak*t/W during warmup,
then cosine to a floor), with the decay part cross-checked against torch's CosineAnnealingLR.

Run from anywhere: python3 tools/make_optim_fixtures.py
"""
import json
import math
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")
EXCLUDED = {"bias", "normScale", "normShift"}

PARAMS = [
    ("conv.weight", "weight", [3, 2, 2]),
    ("fc.weight", "weight", [4, 3]),
    ("fc.bias", "bias", [4]),
    ("bn.weight", "normScale", [3]),
    ("bn.bias", "normShift", [3]),
    ("zero.weight", "weight", [5]),
]
LRS = [0.1, 0.05, 0.2]

CASES = {
    "sgd_plain": {"kind": "sgd", "momentum": 0.0, "weight_decay": 0.01},
    "sgd_momentum": {"kind": "sgd", "momentum": 0.9, "weight_decay": 0.01},
    "sgd_nesterov": {"kind": "sgd", "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "sgd_exclude": {"kind": "sgd", "momentum": 0.9, "weight_decay": 0.05, "exclude": True},
    "lars": {"kind": "lars", "momentum": 0.9, "weight_decay": 0.01, "eta": 0.001, "lr_scale": 10.0},
    "lars_nesterov": {"kind": "lars", "momentum": 0.8, "nesterov": True, "weight_decay": 0.1, "eta": 0.05},
    "adam": {"kind": "adam", "weight_decay": 0.01, "betas": [0.9, 0.999], "eps": 1e-8},
    "adamw": {"kind": "adamw", "weight_decay": 0.1, "betas": [0.8, 0.99], "eps": 1e-6},
    "adamw_exclude": {"kind": "adamw", "weight_decay": 0.1, "betas": [0.9, 0.999], "eps": 1e-8, "exclude": True},
}


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def entry(array):
    array = np.asarray(array, dtype=np.float64)
    return {"shape": list(array.shape), "data": array.ravel().tolist()}


def run_torch(case, init, grads):
    kind = case["kind"]
    tensors = {name: torch.tensor(init[name], requires_grad=True) for name, _, _ in PARAMS}
    wd = case["weight_decay"]
    if case.get("exclude"):
        groups = [
            {"params": [tensors[n] for n, r, _ in PARAMS if r not in EXCLUDED], "weight_decay": wd},
            {"params": [tensors[n] for n, r, _ in PARAMS if r in EXCLUDED], "weight_decay": 0.0},
        ]
    else:
        groups = [{"params": [tensors[n] for n, _, _ in PARAMS], "weight_decay": wd}]
    if kind == "sgd":
        opt = torch.optim.SGD(groups, lr=LRS[0], momentum=case["momentum"], nesterov=case.get("nesterov", False))
    elif kind == "adam":
        opt = torch.optim.Adam(groups, lr=LRS[0], betas=tuple(case["betas"]), eps=case["eps"])
    else:
        opt = torch.optim.AdamW(groups, lr=LRS[0], betas=tuple(case["betas"]), eps=case["eps"])
    for step, lr in enumerate(LRS):
        for group in opt.param_groups:
            group["lr"] = lr
        for name, _, _ in PARAMS:
            tensors[name].grad = torch.tensor(grads[step][name])
        opt.step()
    final = {name: tensors[name].detach().numpy().copy() for name, _, _ in PARAMS}
    state = {}
    for name, _, _ in PARAMS:
        s = opt.state[tensors[name]]
        if kind == "sgd":
            if case["momentum"] > 0:
                state[name + ".momentum_buffer"] = s["momentum_buffer"].numpy().copy()
        else:
            state[name + ".exp_avg"] = s["exp_avg"].numpy().copy()
            state[name + ".exp_avg_sq"] = s["exp_avg_sq"].numpy().copy()
            state["step"] = np.array([float(s["step"])])
    return final, state


def run_lars(case, init, grads):
    """The official SimCLR LARS update (classic momentum), in float64 numpy."""
    w = {name: init[name].copy() for name, _, _ in PARAMS}
    v = {name: np.zeros_like(init[name]) for name, _, _ in PARAMS}
    m, wd, eta = case["momentum"], case["weight_decay"], case["eta"]
    scale = case.get("lr_scale", 1.0)
    for step, lr in enumerate(LRS):
        lr = lr * scale
        for name, role, _ in PARAMS:
            g = grads[step][name].copy()
            trust = 1.0
            if role not in EXCLUDED:
                g = g + wd * w[name]
                w_norm, g_norm = np.linalg.norm(w[name]), np.linalg.norm(g)
                trust = eta * w_norm / g_norm if (w_norm > 0 and g_norm > 0) else 1.0
            scaled = lr * trust
            v[name] = m * v[name] + scaled * g
            update = m * v[name] + scaled * g if case.get("nesterov") else v[name]
            w[name] = w[name] - update
    return w, {name + ".momentum": v[name] for name, _, _ in PARAMS}


def updates():
    rng = np.random.default_rng(20)
    init = {}
    for name, role, shape in PARAMS:
        if name == "zero.weight":
            init[name] = np.zeros(shape)
        elif role == "normScale":
            init[name] = f32(1 + 0.1 * rng.standard_normal(shape))
        else:
            init[name] = f32(0.5 * rng.standard_normal(shape))
    grads = [{name: f32(rng.standard_normal(shape)) for name, _, shape in PARAMS} for _ in LRS]
    out = {}
    for name, _, _ in PARAMS:
        out["init." + name] = entry(init[name])
        for step in range(len(LRS)):
            out[f"grad.{step}.{name}"] = entry(grads[step][name])
    for case_name, case in CASES.items():
        if case["kind"] == "lars":
            final, state = run_lars(case, init, grads)
        else:
            final, state = run_torch(case, init, grads)
        for name, value in final.items():
            out[f"{case_name}.{name}"] = entry(value)
        for key, value in state.items():
            out[f"{case_name}.state.{key}"] = entry(value)
    out["meta"] = {
        "params": [{"name": n, "role": r} for n, r, _ in PARAMS],
        "lrs": LRS,
        "cases": CASES,
    }
    with open(os.path.join(OUT, "optim_updates.json"), "w") as f:
        json.dump(out, f)


SCHEDULES = {
    "linear_warmup": {"base": 0.3, "scaling": "linear", "batch": 512, "warmup": 10, "total": 50, "floor": 0.0},
    "sqrt_floor": {"base": 0.075, "scaling": "sqrt", "batch": 128, "warmup": 5, "total": 40, "floor": 0.01},
    "none_nowarmup": {"base": 0.12, "scaling": "none", "batch": 256, "warmup": 0, "total": 30, "floor": 0.0},
}


def schedule_values(s):
    peak = {"linear": s["base"] * s["batch"] / 256, "sqrt": s["base"] * math.sqrt(s["batch"]), "none": s["base"]}[
        s["scaling"]]
    warmup, total, floor = s["warmup"], s["total"], s["floor"]
    values = []
    for t in range(total + 3):
        if t < warmup:
            values.append(peak * t / warmup)
        elif t >= total:
            values.append(floor)
        else:
            values.append(floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * (t - warmup) / (total - warmup))))
    # Cross-check the decay against torch's cosine annealing (its recursive form, float64).
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=peak)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=floor)
    for t in range(warmup, total):
        assert abs(opt.param_groups[0]["lr"] - values[t]) < 1e-9 * peak, (t, opt.param_groups[0]["lr"], values[t])
        opt.step()
        sched.step()
    return values


def schedules():
    out = {}
    for name, s in SCHEDULES.items():
        out[name] = entry(schedule_values(s))
    out["meta"] = {"schedules": SCHEDULES}
    with open(os.path.join(OUT, "optim_schedule.json"), "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    updates()
    schedules()
    print("wrote optim_updates.json, optim_schedule.json")
