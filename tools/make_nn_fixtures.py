#!/usr/bin/env python3
"""Reference values from PyTorch for the NN layer tests (Tests/Fixtures/nn_*.json).

Each fixture holds inputs, parameters, a random upstream gradient dy, and PyTorch's outputs and
gradients, so the Swift tests compare literal values. Run: python3 tools/make_nn_fixtures.py
(needs torch; the tests do not). Shapes are tiny so the files stay small.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float32)
OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures")


def t(x):
    x = x.detach().contiguous()
    return {"shape": list(x.shape), "data": [float("%.7g" % v) for v in x.reshape(-1).tolist()]}


def save(name, d):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(d, f, separators=(",", ":"))
    print(name, os.path.getsize(os.path.join(OUT, name + ".json")), "bytes")


def conv_case(n, cin, cout, hw, k, s, p):
    x = torch.randn(n, cin, hw, hw, requires_grad=True)
    w = (torch.randn(cout, cin, k, k) * 0.3).requires_grad_()
    y = F.conv2d(x, w, stride=s, padding=p)
    dy = torch.randn_like(y)
    y.backward(dy)
    return {"x": t(x), "w": t(w), "y": t(y), "dy": t(dy), "dx": t(x.grad), "dw": t(w.grad),
            "meta": {"k": k, "stride": s, "padding": p}}


save("nn_conv_s1", conv_case(2, 3, 4, 5, 3, 1, 1))
save("nn_conv_s2", conv_case(2, 4, 6, 7, 3, 2, 1))
save("nn_conv_1x1_s2", conv_case(2, 4, 8, 6, 1, 2, 0))


def bn_case(relu):
    bn = nn.BatchNorm2d(5)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(5) + 0.5)
        bn.bias.copy_(torch.randn(5) * 0.2)
        bn.running_mean.copy_(torch.randn(5) * 0.1)
        bn.running_var.copy_(torch.rand(5) + 0.5)
    rm0, rv0 = bn.running_mean.clone(), bn.running_var.clone()
    x = (torch.randn(3, 5, 4, 4) * 2 + 1).requires_grad_()
    bn.train()
    y = bn(x)
    if relu:
        y = F.relu(y)
    dy = torch.randn_like(y)
    y.backward(dy)
    d = {"x": t(x), "gamma": t(bn.weight), "beta": t(bn.bias), "running_mean0": t(rm0), "running_var0": t(rv0),
         "y": t(y), "dy": t(dy), "dx": t(x.grad), "dgamma": t(bn.weight.grad), "dbeta": t(bn.bias.grad),
         "running_mean": t(bn.running_mean), "running_var": t(bn.running_var)}
    bn.eval()
    with torch.no_grad():
        ye = bn(x)
        if relu:
            ye = F.relu(ye)
    d["y_eval"] = t(ye)
    return d


save("nn_bn", bn_case(False))
save("nn_bn_relu", bn_case(True))

x = torch.randn(2, 3, 7, 7, requires_grad=True)
y = F.max_pool2d(x, 3, 2, 1)
dy = torch.randn_like(y)
y.backward(dy)
save("nn_maxpool", {"x": t(x), "y": t(y), "dy": t(dy), "dx": t(x.grad)})

x = torch.randn(4, 6, requires_grad=True)
lin = nn.Linear(6, 5)
y = lin(x)
dy = torch.randn_like(y)
y.backward(dy)
save("nn_linear", {"x": t(x), "w": t(lin.weight), "b": t(lin.bias), "y": t(y), "dy": t(dy), "dx": t(x.grad),
                   "dw": t(lin.weight.grad), "db": t(lin.bias.grad)})

x = (torch.randn(6, 5) * 2 + 0.5).requires_grad_()
bn1 = nn.BatchNorm1d(5)
with torch.no_grad():
    bn1.weight.copy_(torch.rand(5) + 0.5)
    bn1.bias.copy_(torch.randn(5) * 0.2)
y = bn1(x)
dy = torch.randn_like(y)
y.backward(dy)
save("nn_bn1d", {"x": t(x), "gamma": t(bn1.weight), "beta": t(bn1.bias), "y": t(y), "dy": t(dy), "dx": t(x.grad),
                 "dgamma": t(bn1.weight.grad), "dbeta": t(bn1.bias.grad),
                 "running_mean": t(bn1.running_mean), "running_var": t(bn1.running_var)})


# ---- whole encoders, torchvision structure and names --------------------------------------
class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        o = F.relu(self.bn1(self.conv1(x)))
        o = self.bn2(self.conv2(o))
        return F.relu(o + (x if self.downsample is None else self.downsample(x)))


class Bottle(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride != 1 or cin != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        o = F.relu(self.bn1(self.conv1(x)))
        o = F.relu(self.bn2(self.conv2(o)))
        o = self.bn3(self.conv3(o))
        return F.relu(o + (x if self.downsample is None else self.downsample(x)))


class Net(nn.Module):
    def __init__(self, block, counts, width, stem):
        super().__init__()
        planes = [max(1, int(round(c * width))) for c in (64, 128, 256, 512)]
        if stem == "cifar":
            self.conv1 = nn.Conv2d(3, planes[0], 3, 1, 1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(3, planes[0], 7, 2, 3, bias=False)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.bn1 = nn.BatchNorm2d(planes[0])
        cin = planes[0]
        for i, (p, c) in enumerate(zip(planes, counts)):
            blocks = []
            for j in range(c):
                blocks.append(block(cin, p, 2 if (i > 0 and j == 0) else 1))
                cin = p * block.expansion
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*blocks))
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):  # non-trivial affine parameters
                nn.init.uniform_(m.weight, 0.5, 1.5)
                nn.init.normal_(m.bias, 0, 0.2)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


def formula_input(shape):
    """x[k] = sin(0.7548776662 k + 0.5) * 1.5 over the flat index k, computed in float64 then
    rounded to float32: the Swift test computes the same, so big inputs need not be stored."""
    k = torch.arange(int(torch.tensor(shape).prod()), dtype=torch.float64)
    return (torch.sin(k * 0.7548776662 + 0.5) * 1.5).float().reshape(shape)


def encoder_case(block, counts, width, stem, shape, store_x=True):
    """Reference = the same network in float64 (tiny ResNets are badly conditioned: some BN
    gradients are sums that nearly cancel, and PyTorch's own float32 gradients differ from
    float64 by up to tens of percent on them). For each tensor we also store how far PyTorch's
    float32 result is from float64 ("dev.<name>", an L2 norm), the yardstick for the Swift test."""
    import copy
    net = Net(block, counts, width, stem).train()
    net64 = copy.deepcopy(net).double()
    x = torch.randn(*shape) if store_x else formula_input(shape)
    h = net(x)
    dh = torch.randn_like(h)
    h.backward(dh)
    h64 = net64(x.double())
    h64.backward(dh.double())
    d = {"h": t(h64), "dh": t(dh), "dev.h": t(torch.tensor([(h.double() - h64).norm().item()]))}
    if store_x:
        d["x"] = t(x)
    d["meta"] = {"width": width, "stem": stem, "names": [n for n, _ in net.named_parameters()],
                 "buffers": [n for n, _ in net.named_buffers()]}
    for (n, p), (_, p64) in zip(net.named_parameters(), net64.named_parameters()):
        d["param." + n] = t(p)
        d["grad." + n] = t(p64.grad)
        d["dev." + n] = t(torch.tensor([(p.grad.double() - p64.grad).norm().item()]))
    for (n, b), (_, b64) in zip(net.named_buffers(), net64.named_buffers()):
        if b.dtype == torch.float32:
            d["buffer." + n] = t(b64)  # after the training forward
    return d


save("nn_resnet18_tiny", encoder_case(Basic, [2, 2, 2, 2], 1 / 32, "cifar", (4, 3, 8, 8)))
# Batch 8 at 64x64 keeps every BatchNorm well conditioned (>= 32 values per channel at layer4);
# the input is generated by formula (see formula_input) to keep the file small.
save("nn_resnet50_tiny", encoder_case(Bottle, [3, 4, 6, 3], 1 / 32, "imagenet", (8, 3, 64, 64), store_x=False))
