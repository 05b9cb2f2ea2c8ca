"""Child-process entry: ``python -m bench.child CASE --dir BENCH_DIR`` prints one JSON line (one run)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from .cases import CASES
from .harness import run_in_this_process


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    setup, run = CASES[args.case]
    result = run_in_this_process(args.case, lambda: setup(args.dir), run)
    print(json.dumps(dataclasses.asdict(result), default=str))


if __name__ == "__main__":
    main()
