#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test, and ends with the plain
# summary line "N passed, M failed, K skipped".
#
# Tests are built optimised (release) with testing enabled, because `@testable import` needs it
# and the gradient checks and loaders are far too slow unoptimised. They get their own build
# folder, so this build and the plain release build of `simclr` (demo, bench) never replace each
# other's products. Arguments go to `swift test`, e.g. one suite:
#
#   bash scripts/test.sh --filter LoaderTests
#
# Environment: SCRATCH (SwiftPM build folder for the tests, default .build-tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SCRATCH=${SCRATCH:-.build-tests}
swift build -c release --build-tests -Xswiftc -enable-testing --scratch-path "$SCRATCH"
log=$(mktemp)
status=0
swift test -c release --skip-build --scratch-path "$SCRATCH" --disable-swift-testing "$@" 2>&1 | tee "$log" || status=$?
# The last "Executed" line is XCTest's total over all suites.
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with " "$log" | tail -1 || true)
rm -f "$log"
re='Executed ([0-9]+) tests?, with (([0-9]+) tests? skipped and )?([0-9]+) failures?'
if [[ $summary =~ $re ]]; then
  total=${BASH_REMATCH[1]}; skipped=${BASH_REMATCH[3]:-0}; failed=${BASH_REMATCH[4]}
  echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
else
  echo "0 passed, 1 failed"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
