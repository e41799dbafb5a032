"""What the regex one-pass reading of small parts buys at batch level.

    python bench/bench_onepass.py               # 600 distinct returns, 5 rounds
    python bench/bench_onepass.py --n 300 --rounds 3

Makes N distinct filled returns (10 % with a planted mistake) from the real template,
then reads and validates them all (check.read_reports, one process so that the two
ways are timed on the same core) alternately with small parts read in one pass and
with every part streamed through expat handlers, and prints the best round of each and
the difference.  Issue 10: keep the one-pass path only if it buys ~10 % or more.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=1,
                    help="worker processes")
    args = ap.parse_args()

    import bench_check

    from toolkit.outputs import check
    from toolkit.workbook.limits import Limits

    with tempfile.TemporaryDirectory() as tmp:
        bench_check.UNIQUE = args.n  # every file distinct: no part is remembered from another
        files = bench_check.make_returns(Path(tmp), args.n)
        check.read_reports(files[:50], workers=1)  # imports, pandera schemas built
        best = {}
        for _ in range(args.rounds):
            for mode, limits in (("one_pass", Limits()), ("streaming", Limits(one_pass_max=-1))):
                start = time.perf_counter()
                reports = check.read_reports(files, workers=args.workers, limits=limits)
                took = time.perf_counter() - start
                best[mode] = min(best.get(mode, took), took)
                assert sum(r.status == "pass" for r in reports) == args.n - args.n // 10
    one, streamed = best["one_pass"], best["streaming"]
    print(f"{args.n} 个报送文件读取并校验（{args.workers} 个进程，{args.rounds} 轮取最快）：")
    print(f"  一次读入（正则）  {one:.2f} 秒  {args.n / one:,.0f} 个/秒")
    print(f"  逐行流式解析      {streamed:.2f} 秒  {args.n / streamed:,.0f} 个/秒")
    print(f"  一次读入快 {100 * (streamed - one) / streamed:.1f} %")


if __name__ == "__main__":
    main()
