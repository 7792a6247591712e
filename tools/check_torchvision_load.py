#!/usr/bin/env python3
"""Checks that a safetensors file written by swift-simclr loads into torchvision's ResNet.

Usage:  python3 tools/check_torchvision_load.py WEIGHTS.safetensors [--depth 18|50]

Builds `torchvision.models.resnet18()` (or resnet50), swaps in the CIFAR stem exactly as
swift-simclr builds it, drops the `head.` tensors (the projection head is not part of the
encoder) and loads the rest with `load_state_dict(strict=True)`:

    model = torchvision.models.resnet18()
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    model.fc = nn.Identity()
    model.load_state_dict({k: v for k, v in load_file(path).items() if not k.startswith("head.")}, strict=True)

Prints OK (with tensor counts, the metadata, and the features' shape for one 32x32 image) or the
error from PyTorch; exits 0 on success, 1 on failure. Needs: torch, torchvision, safetensors.
"""
import argparse
import sys

import torch
import torch.nn as nn
import torchvision
from safetensors import safe_open
from safetensors.torch import load_file


def cifar_resnet(depth):
    model = {18: torchvision.models.resnet18, 50: torchvision.models.resnet50}[depth]()
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    model.maxpool = nn.Identity()
    model.fc = nn.Identity()
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", help="a .safetensors file written by swift-simclr")
    parser.add_argument("--depth", type=int, choices=[18, 50], default=18)
    args = parser.parse_args()

    with safe_open(args.weights, framework="pt") as f:
        metadata = f.metadata() or {}
    state = load_file(args.weights)
    encoder = {k: v for k, v in state.items() if not k.startswith("head.")}
    head = sorted(k for k in state if k.startswith("head."))

    model = cifar_resnet(args.depth)
    try:
        model.load_state_dict(encoder, strict=True)
    except RuntimeError as error:
        print(f"FAILED: {args.weights} does not load into the CIFAR resnet{args.depth}:\n{error}")
        return 1
    model.eval()
    with torch.no_grad():
        features = model(torch.zeros(1, 3, 32, 32))
    print(f"OK: {len(encoder)} encoder tensors loaded strictly into the CIFAR resnet{args.depth} "
          f"(features {tuple(features.shape)}), {len(head)} head tensors dropped, metadata {metadata}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
