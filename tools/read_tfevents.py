#!/usr/bin/env python3
"""Print the scalars of TensorBoard event files with TensorBoard's own reader.

Checks that the event files swift-simclr writes (Sources/SimCLR/Logging/TFEvents.swift) load
in TensorBoard: each path (an event file or a run folder) is loaded with
tensorboard.backend.event_processing.event_accumulator.EventAccumulator, and every scalar tag
is printed as "tag step value" lines.

    python3 tools/read_tfevents.py runs/exp1
    python3 tools/read_tfevents.py runs/exp1/events.out.tfevents.1700000000.host --json

Exit status 1 if a path holds no scalars.
"""
import argparse
import json
import sys

from tensorboard.backend.event_processing import event_accumulator


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("paths", nargs="+", help="event files or folders holding them")
    p.add_argument("--json", action="store_true", help="one JSON object {tag: [[step, value], ...]} per path")
    args = p.parse_args()
    status = 0
    for path in args.paths:
        acc = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.SCALARS: 0})
        acc.Reload()
        tags = acc.Tags().get("scalars", [])
        if not tags:
            print(f"{path}: no scalars", file=sys.stderr)
            status = 1
            continue
        if args.json:
            print(json.dumps({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in tags}))
            continue
        print(f"# {path}")
        for t in tags:
            for e in acc.Scalars(t):
                print(f"{t} {e.step} {e.value:.9g} wall_time={e.wall_time:.3f}")
    sys.exit(status)


if __name__ == "__main__":
    main()
