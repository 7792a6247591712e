#!/usr/bin/env python3
"""Reference outputs of torchvision's v1 (PIL) functional ops for swift-simclr's augmentations.

Writes Tests/Fixtures/augment_geometry.json, augment_color.json, augment_pipeline.json and
augment_sampling.json (statistics of torchvision's RandomResizedCrop.get_params over many draws).
Each file holds uint8 source images and outputs as {"shape": [H, W, 3], "data": [...]} (HWC,
row-major, values 0-255; normalised outputs as Float32 CHW) plus a "cases" list naming the op,
its fixed parameters, the source and the output entry. Run from the repository root:

    python3 tools/make_augment_fixtures.py

Needs torch, torchvision and Pillow. Deterministic (numpy seed 1234).
"""
import json
import os

import numpy as np
import torch
import torchvision
import torchvision.transforms.functional as F
from PIL import Image
from torchvision.transforms import InterpolationMode

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")
rng = np.random.default_rng(1234)


def source(h, w):
    """Smooth colour gradients plus noise: edges for the resampler, all hues for the colour ops."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack([
        127 + 120 * np.sin(x / 5.0 + y / 9.0),
        127 + 120 * np.cos(y / 4.0 - x / 11.0),
        127 + 120 * np.sin((x + y) / 7.0 + 1.0),
    ], axis=-1)
    noisy = base + rng.normal(0, 40, size=base.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def entry(arr):
    arr = np.asarray(arr)
    return {"shape": list(arr.shape), "data": [round(float(v), 7) if arr.dtype.kind == "f" else int(v)
                                              for v in arr.reshape(-1)]}


def pil(arr):
    return Image.fromarray(arr, "RGB")


def arr(img):
    return np.asarray(img, dtype=np.uint8)


def write(name, doc):
    doc["meta"] = {"torch": torch.__version__, "torchvision": torchvision.__version__,
                   "pillow": Image.__version__, "script": "tools/make_augment_fixtures.py"}
    path = os.path.join(OUT, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes")


def geometry():
    src = source(29, 37)   # H 29, W 37
    doc = {"src": entry(src)}
    cases = []
    # (top, left, height, width, out_h, out_w, flip)
    specs = [
        (3, 5, 10, 13, 32, 32, False),    # upscale both axes
        (0, 0, 29, 37, 16, 16, False),    # downscale both (antialiased)
        (2, 1, 27, 9, 20, 20, True),      # narrow: x up, y down; flipped
        (4, 6, 20, 24, 20, 24, False),    # same size: pure crop
        (0, 0, 29, 37, 29, 37, True),     # identity size, flip only
        (7, 11, 17, 21, 32, 32, True),    # upscale + flip
        (1, 2, 25, 33, 12, 15, False),    # non-square output, strong downscale
        (0, 3, 29, 31, 7, 7, False),      # very strong downscale
    ]
    for k, (top, left, h, w, oh, ow, flip) in enumerate(specs):
        img = F.resized_crop(pil(src), top, left, h, w, [oh, ow], InterpolationMode.BILINEAR, antialias=True)
        if flip:
            img = F.hflip(img)
        name = f"crop{k}"
        doc[name] = entry(arr(img))
        cases.append({"op": "resized_crop", "top": top, "left": left, "height": h, "width": w,
                      "out_height": oh, "out_width": ow, "flip": flip, "out": name})
    # Evaluation transform: Resize(shorter side) + CenterCrop, then ToTensor + Normalize (CHW float).
    mean, std = [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]
    for k, size in enumerate([16, 29, 40]):
        img = F.center_crop(F.resize(pil(src), size, InterpolationMode.BILINEAR, antialias=True), [size, size])
        t = F.normalize(F.to_tensor(img), mean, std)
        name = f"eval{k}"
        doc[name] = entry(t.numpy())
        cases.append({"op": "eval", "size": size, "mean": mean, "std": std, "out": name})
    doc["cases"] = cases
    write("augment_geometry", doc)


def color():
    src = source(24, 32)
    doc = {"src": entry(src)}
    cases = []
    ops = [("brightness", F.adjust_brightness, [0.2, 0.75, 1.0, 1.37, 1.8]),
           ("contrast", F.adjust_contrast, [0.2, 0.63, 1.45, 1.8]),
           ("saturation", F.adjust_saturation, [0.0, 0.41, 1.55, 1.8]),
           ("hue", F.adjust_hue, [-0.2, -0.037, 0.0, 0.061, 0.2, 0.5])]
    k = 0
    for op, fn, factors in ops:
        for factor in factors:
            name = f"out{k}"; k += 1
            doc[name] = entry(arr(fn(pil(src), factor)))
            cases.append({"op": op, "factor": factor, "out": name})
    name = f"out{k}"; k += 1
    doc[name] = entry(arr(F.rgb_to_grayscale(pil(src), num_output_channels=3)))
    cases.append({"op": "grayscale", "out": name})
    for threshold in [128, 200]:
        name = f"out{k}"; k += 1
        doc[name] = entry(arr(F.solarize(pil(src), threshold)))
        cases.append({"op": "solarize", "threshold": threshold, "out": name})
    for ksize, sigma in [(3, 0.7), (3, 0.1), (5, 1.3), (9, 1.9)]:
        name = f"out{k}"; k += 1
        doc[name] = entry(arr(F.gaussian_blur(pil(src), [ksize, ksize], [sigma, sigma])))
        cases.append({"op": "blur", "kernel": ksize, "sigma": sigma, "out": name})
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    name = f"out{k}"; k += 1
    doc[name] = entry(F.normalize(F.to_tensor(pil(src)), mean, std).numpy())
    cases.append({"op": "normalize", "mean": mean, "std": std, "out": name})
    doc["cases"] = cases
    write("augment_color", doc)


def pipeline():
    """Whole views with fixed parameters: crop, flip, jitter in a given order, grayscale, blur,
    solarize, normalise; PIL rounds to uint8 after every op."""
    src = source(40, 40)
    doc = {"src": entry(src)}
    mean, std = [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]
    specs = [
        dict(crop=(5, 3, 22, 30), size=32, flip=True, order=[2, 0, 3, 1],
             factors=[1.3, 0.7, 1.6, -0.15], gray=False, blur=None, solarize=None),
        dict(crop=(0, 0, 40, 40), size=32, flip=False, order=[0, 1, 2, 3],
             factors=[0.6, 1.4, 0.3, 0.08], gray=True, blur=(3, 1.2), solarize=None),
        dict(crop=(10, 12, 9, 12), size=24, flip=False, order=[3, 1, 0, 2],
             factors=[1.1, 1.9, 1.2, 0.19], gray=False, blur=(3, 0.5), solarize=128),
        dict(crop=(2, 2, 36, 30), size=32, flip=True, order=None,
             factors=None, gray=False, blur=None, solarize=None),
    ]
    cases = []
    fns = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue]
    for k, s in enumerate(specs):
        top, left, h, w = s["crop"]
        img = F.resized_crop(pil(src), top, left, h, w, [s["size"]] * 2, InterpolationMode.BILINEAR, antialias=True)
        if s["flip"]:
            img = F.hflip(img)
        if s["order"] is not None:
            for fi in s["order"]:
                img = fns[fi](img, s["factors"][fi])
        if s["gray"]:
            img = F.rgb_to_grayscale(img, num_output_channels=3)
        if s["blur"] is not None:
            img = F.gaussian_blur(img, [s["blur"][0]] * 2, [s["blur"][1]] * 2)
        if s["solarize"] is not None:
            img = F.solarize(img, s["solarize"])
        t = F.normalize(F.to_tensor(img), mean, std)
        name = f"view{k}"
        doc[name] = entry(t.numpy())
        case = dict(s)
        case.update(out=name, mean=mean, std=std)
        cases.append(case)
    doc["cases"] = cases
    write("augment_pipeline", doc)


def sampling():
    """Statistics of RandomResizedCrop.get_params (scale 0.08-1, ratio 3/4-4/3) over 200,000 draws
    per image shape: mean and std of the area fraction and of log(w / h), and the share of
    full-image crops (the fallback and near-full draws)."""
    import math
    from torchvision.transforms import RandomResizedCrop
    torch.manual_seed(0)
    draws = 200_000
    stats = []
    for (h, w) in [(32, 32), (64, 96), (96, 40)]:
        img = torch.zeros(1, h, w)
        area, logr = [], []
        full = 0
        for _ in range(draws):
            i, j, ch, cw = RandomResizedCrop.get_params(img, [0.08, 1.0], [3 / 4, 4 / 3])
            area.append(ch * cw / (h * w))
            logr.append(math.log(cw / ch))
            full += (ch == h and cw == w)
        area, logr = np.array(area), np.array(logr)
        stats.append({"height": h, "width": w, "draws": draws,
                      "area_mean": float(area.mean()), "area_std": float(area.std()),
                      "log_ratio_mean": float(logr.mean()), "log_ratio_std": float(logr.std()),
                      "full_share": full / draws})
    write("augment_sampling", {"crop_stats": stats})


if __name__ == "__main__":
    sampling()
    geometry()
    color()
    pipeline()
