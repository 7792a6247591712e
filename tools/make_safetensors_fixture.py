#!/usr/bin/env python3
"""Writes Tests/Fixtures/torch_written.safetensors (with the `safetensors` Python package) and
Tests/Fixtures/torch_written.json (the values it holds), the fixture of SafeTensorsTorchTests.

The file holds a handful of real tensors from the state_dict of torchvision's resnet18 with the
CIFAR stem (conv1 = 3x3 stride 1, maxpool = Identity, fc = Identity), seeded, with non-trivial
BatchNorm running statistics and int64 `num_batches_tracked`; a small `head.` linear layer; and,
under `dtypes.`, one tensor of each dtype swift-simclr reads (F64, F16, BF16, I64, I32, F32) with
edge values (subnormals, the largest half, negative zero, integers beyond 2^32).

Run from the repository root:  python3 tools/make_safetensors_fixture.py
Needs: torch, torchvision, safetensors (pip install safetensors).
"""
import json
import os

import torch
import torch.nn as nn
import torchvision
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures")

# The encoder tensors kept (all of them would be ~45 MB).
KEPT = [
    "conv1.weight",
    "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
    "layer2.0.downsample.1.weight", "layer2.0.downsample.1.bias",
    "layer2.0.downsample.1.running_mean", "layer2.0.downsample.1.running_var",
    "layer2.0.downsample.1.num_batches_tracked",
]


def cifar_resnet18():
    model = torchvision.models.resnet18()
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    model.fc = nn.Identity()
    return model


def main():
    torch.manual_seed(20200213)
    model = cifar_resnet18()
    # Non-trivial BatchNorm state (fresh modules have mean 0, var 1, gamma 1, beta 0, count 0).
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.5, 0.5)
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.1, 2)
            module.num_batches_tracked.fill_(391 if name == "bn1" else 782)
    state = model.state_dict()
    tensors = {k: state[k].clone().contiguous() for k in KEPT}

    head = nn.Linear(4, 3)
    tensors["head.0.weight"] = head.weight.detach().clone()
    tensors["head.0.bias"] = head.bias.detach().clone()

    tensors["dtypes.f64"] = torch.tensor([[0.1, -2.5, 1e-30], [3.0e38, -0.0, 7.125]], dtype=torch.float64)
    tensors["dtypes.f16"] = torch.tensor(
        [0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 6.103515625e-05, 5.960464477539063e-08, 0.1, 1000.5],
        dtype=torch.float16)
    tensors["dtypes.bf16"] = torch.tensor([1.0, -3.140625, 1.0e38, -1.0e-38, 0.0078125, 255.0], dtype=torch.bfloat16)
    tensors["dtypes.i64"] = torch.tensor([0, -1, 2**40 + 3, -(2**33), 16777217], dtype=torch.int64)
    tensors["dtypes.i32"] = torch.tensor([[7, -7], [2**31 - 1, -(2**31)]], dtype=torch.int32)
    tensors["dtypes.f32_scalar"] = torch.tensor(-1.5, dtype=torch.float32)

    metadata = {"format": "pt", "source": "tools/make_safetensors_fixture.py"}
    os.makedirs(OUT, exist_ok=True)
    save_file(tensors, os.path.join(OUT, "torch_written.safetensors"), metadata=metadata)

    # Expected values as Float32 (what a Float reader must produce), and each tensor's dtype.
    expected = {}
    for name, t in tensors.items():
        as_f32 = t.to(torch.float32)
        expected[name] = {"shape": list(t.shape), "data": [float(x) for x in as_f32.flatten().tolist()]}
    expected["meta"] = {
        "metadata": metadata,
        "dtypes": {name: str(t.dtype).replace("torch.", "") for name, t in tensors.items()},
        "integers": {name: t.flatten().tolist() for name, t in tensors.items() if not t.is_floating_point()},
    }
    with open(os.path.join(OUT, "torch_written.json"), "w") as f:
        json.dump(expected, f, indent=None, separators=(",", ":"))
        f.write("\n")
    for name in ("torch_written.safetensors", "torch_written.json"):
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
