"""Child-process entry: ``python -m bench.child CASE --size SME-L --repeat 5`` prints one JSON line."""

from __future__ import annotations

import argparse
import dataclasses
import json

from .cases import CASES
from .harness import run_in_this_process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--size", default="SME-L")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    setup, run = CASES[args.case]
    result = run_in_this_process(args.case, lambda: setup(args.size), run, args.repeat)
    print(json.dumps(dataclasses.asdict(result)))


if __name__ == "__main__":
    main()
