#!/usr/bin/env bash
# Chaos run: one tiny training run SIGKILLed at N seeded random instants (inside checkpoint
# writes, between a checkpoint and its pointer, inside log and TensorBoard writes, inside the kNN
# pass, after steps, and at random delays), resumed after each; it must end with the same bits,
# metrics.jsonl and TensorBoard points as an uninterrupted run, and every checkpoint left on disk
# after a kill must load (Tests/CLITests/ChaosTests.swift; the test suite runs it with 3 kills).
#
#   bash scripts/chaos.sh            # 20 kills, seed 1
#   bash scripts/chaos.sh 50 7       # 50 kills, seed 7
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-20}"; seed="${2:-1}"
case "$kills$seed" in *[!0-9]*) echo "usage: bash scripts/chaos.sh [KILLS] [SEED] (whole numbers)" >&2; exit 2;; esac
bash scripts/setup.sh
swift build --build-tests >&2
CHAOS_KILLS="$kills" CHAOS_SEED="$seed" swift test --skip-build --disable-swift-testing --filter ChaosTests 2>&1 \
  | grep -E "chaos:|error|Executed .* tests?" | tail -n 20
