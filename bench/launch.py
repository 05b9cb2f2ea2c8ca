"""``python -S bench/launch.py RESULT -- CMD...``: run CMD, write its wall time, CPU time and peak RSS.

Why a launcher: on Linux a child's ``ru_maxrss`` starts from the memory of the process it was forked from
(the kernel records the old address space's peak at ``exec``), so a child of the benchmark process (which
holds pandas) could never report less than the benchmark process itself. This launcher is a bare Python
(``-S``, standard library only, ~10 MB), so what it reports for CMD is CMD's own peak (no Python process
is smaller than its launcher), measured from spawn to exit.
"""

import json
import os
import subprocess
import sys
import time


def main() -> None:
    result, separator, *argv = sys.argv[1:]
    if separator != "--" or not argv:
        raise SystemExit("usage: launch.py RESULT -- CMD...")
    start = time.perf_counter()
    proc = subprocess.Popen(argv)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    with open(result, "w", encoding="utf-8") as out:
        json.dump({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_rss": usage.ru_maxrss * 1024,
                   "exit": code}, out)  # fmt: skip
    sys.exit(code)


if __name__ == "__main__":
    main()
