#!/usr/bin/env python3
"""Runs the PyTorch reference's kNN and linear probe (bench/torch_simclr_train.py, imported,
not copied) on features saved as .npy, to compare with the Swift evaluation on the same data.

    SIMCLR_EVAL_BENCH=$PWD/runs/evalbench bash scripts/test.sh --filter EvaluationBenchmark   # writes the .npy files
    python3 tools/bench_eval_reference.py runs/evalbench [--bench-dir ../shared/bench]

Prints kNN top-1 (k = 200, T = 0.1), the probe's train / eval top-1, final loss, iterations and times.
"""
import argparse
import importlib.util
import os
import sys
import time

import numpy as np

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("folder", help="folder with train_h.npy, train_y.npy, eval_h.npy, eval_y.npy")
p.add_argument("--bench-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench"))
p.add_argument("--threads", type=int, default=2)
args = p.parse_args()

os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
saved = sys.argv
sys.argv = [saved[0], "--threads", str(args.threads)]  # the reference parses its own flags on import
spec = importlib.util.spec_from_file_location("ref", os.path.join(args.bench_dir, "torch_simclr_train.py"))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
sys.argv = saved
import torch  # noqa: E402

torch.set_num_threads(args.threads)
load = lambda n: torch.from_numpy(np.load(os.path.join(args.folder, n)))  # noqa: E731
xt, yt, xe, ye = load("train_h.npy"), load("train_y.npy"), load("eval_h.npy"), load("eval_y.npy")
c0, t0 = time.process_time(), time.perf_counter()
knn = ref.knn_accuracy(xt, yt, xe, ye, 200, 0.1, n_classes=int(yt.max()) + 1)
c1, t1 = time.process_time(), time.perf_counter()
lin, info = ref.linear_probe(xt, yt, {"eval": (xe, ye)}, 1e-4, 500, n_classes=int(yt.max()) + 1)
c2, t2 = time.process_time(), time.perf_counter()
print(f"REF knn top1 {knn:.2f} in {t1 - t0:.2f} s (cpu {c1 - c0:.2f} s)")
print(f"REF probe train {lin['train']:.2f} eval top1 {lin['eval']:.2f} loss {info['loss']} iters {info['iters']} "
      f"evals {info['func_evals']} in {t2 - t1:.2f} s (cpu {c2 - c1:.2f} s)")
