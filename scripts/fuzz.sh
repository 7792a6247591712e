#!/usr/bin/env bash
# Reader fuzzing, longer than the test suite's quick mode: N seeded mutants per format (safetensors
# ours and PyTorch's, config.yaml, metrics.jsonl, .npy, PNG, JPEG) through the real readers, in process.
#
#   bash scripts/fuzz.sh 20000 7      # 20,000 mutants per format, seed 7 (defaults 5000, 1)
#
# A failing mutant is kept in ${TMPDIR:-/tmp}/simclr-fuzz-failures; after a trap, the last mutant
# is the file left in ${TMPDIR:-/tmp}/fuzz-*/.
set -euo pipefail
cd "$(dirname "$0")/.."
SIMCLR_FUZZ_N="${1:-5000}" SIMCLR_FUZZ_SEED="${2:-1}" bash scripts/test.sh --filter ReaderFuzzTests
