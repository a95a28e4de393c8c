#!/usr/bin/env python3
"""The release binary on each hostile file (tests/hostile/) and on a normal photo, as the pipeline
runs them (`qdn-photos thumbnail IN OUT`): the CPU seconds and the peak RSS of each run, against the
budgets of issue 22 (at most 2 s CPU and 256 MB). `make bench` runs it; the figures go in
docs/performance.md. A measurement, not a test: CPU time depends on the machine.

    python3 scripts/hostile_budgets.py BOOTSTRAP tests/hostile [PHOTO...]
"""
import os
import sys

CPU_BUDGET_S = 2.0
RSS_BUDGET_MB = 256


def main():
    binary, folder, *photos = sys.argv[1:]
    files = [os.path.join(folder, f) for f in sorted(os.listdir(folder))] + photos
    print(f"{'file':<40} {'bytes':>9} {'CPU s':>7} {'peak MB':>8}  outcome")
    over = 0
    for path in files:
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execv(binary, [binary, "thumbnail", path, os.devnull])
        _, status, usage = os.wait4(pid, 0)
        cpu = usage.ru_utime + usage.ru_stime
        rss = usage.ru_maxrss / 1024
        code = os.waitstatus_to_exitcode(status)
        outcome = "thumbnail" if code == 0 else ("refused" if code == 2 else f"exit {code}")
        flag = "" if cpu <= CPU_BUDGET_S and rss <= RSS_BUDGET_MB and code in (0, 2) else "  OVER BUDGET"
        over += bool(flag)
        print(f"{os.path.basename(path):<40} {os.path.getsize(path):>9} {cpu:>7.3f} {rss:>8.1f}  {outcome}{flag}")
    print(f"budgets: {CPU_BUDGET_S} s CPU, {RSS_BUDGET_MB} MB peak RSS; {over} over")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
