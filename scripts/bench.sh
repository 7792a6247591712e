#!/usr/bin/env bash
# Step benchmark, swift-simclr against the PyTorch reference (../shared/bench/torch_simclr_step.py),
# back to back in the same session, as ratios. PyTorch runs only if it is importable (see
# ../shared/bench/README.md for installing it and tcmalloc); otherwise only our side is printed.
#
#   bash scripts/bench.sh                       # widths 0.25 and 1.0, batch 256, 2 threads
#   WIDTHS="0.25" BATCH=64 STEPS=10 bash scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product simclr >&2
BIN=.build/release/simclr
OUT="${RESULTS_DIR:-bench-results}"; mkdir -p "$OUT"
WIDTHS="${WIDTHS:-0.25 1.0}"; BATCH="${BATCH:-256}"; THREADS="${THREADS:-2}"
REF=../shared/bench/torch_simclr_step.py
TC=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
have_torch=0; python3 -c "import torch" 2>/dev/null && [ -f "$REF" ] && have_torch=1
: > "$OUT/step.jsonl"
for w in $WIDTHS; do
  if [ "$w" = "1.0" ] || [ "$w" = "1" ]; then steps=${STEPS:-5}; warm=1; else steps=${STEPS:-10}; warm=2; fi
  echo "== width $w, batch $BATCH, $THREADS threads, $steps steps" >&2
  $BIN bench step --width "$w" --batch "$BATCH" --threads "$THREADS" --steps "$steps" --warmup "$warm" \
    | sed 's/^{/{"side": "swift-simclr", /' | tee -a "$OUT/step.jsonl"
  if [ $have_torch = 1 ]; then
    python3 "$REF" --batch "$BATCH" --width "$w" --threads "$THREADS" --steps "$steps" --warmup "$warm" \
      | sed 's/^{/{"side": "torch default", /' | tee -a "$OUT/step.jsonl"
    if [ -f "$TC" ]; then
      LD_PRELOAD=$TC python3 "$REF" --batch "$BATCH" --width "$w" --threads "$THREADS" --steps "$steps" --warmup "$warm" --channels-last \
        | sed 's/^{/{"side": "torch channels_last+tcmalloc", /' | tee -a "$OUT/step.jsonl"
    fi
  fi
done
python3 - "$OUT/step.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("\n| width | side | images/s (median) | ms/step median (min-max) | GFLOP/s | peak RSS MiB | ours / this |")
print("|---|---|---|---|---|---|---|")
for w in sorted({r["width"] for r in rows}):
    ours = [r for r in rows if r["width"] == w and r["side"] == "swift-simclr"][0]
    for r in [r for r in rows if r["width"] == w]:
        ratio = "" if r is ours else "%.2fx speed, %.2fx RSS" % (ours["images_per_s"] / r["images_per_s"], ours["peak_rss_mib"] / r["peak_rss_mib"])
        print("| %s | %s | %.1f | %.1f (%.1f-%.1f) | %.1f | %.0f | %s |" % (w, r["side"], r["images_per_s"], r["ms_per_step"],
              r["ms_per_step_min"], r["ms_per_step_max"], r["achieved_gflops_per_s"], r["peak_rss_mib"], ratio))
PY
