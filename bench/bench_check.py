"""Throughput of `disclosure check` against the naive pipeline, and memory in N.

    python bench/bench_check.py                 # 2,000 returns, then 10,000 (memory)
    python bench/bench_check.py --n 500 --naive 50

Makes N filled returns (10 % with a planted mistake) from the real template, then times
 - this pipeline: content sniffing, streaming reads by defined name in a worker pool,
   one stacked frame and one pandera validation per 1,000 files (check.read_reports);
 - the naive one: openpyxl full load + a one-row frame + one pandera validate per file,
   on a sample of the same files (files/s extrapolates linearly);
and prints files/s for both, the ratio, and peak memory (this process and its workers).
Each N runs in a fresh process so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

UNIQUE = 200  # distinct workbooks; the rest are copies (reading cost is the same)


def make_returns(folder: Path, n: int) -> list[Path]:
    from figures import consistent

    from toolkit.formats import spec
    from toolkit.template.writer import render

    fmt = spec.get()
    rng = random.Random(7)
    keys = [k for k in fmt.figures if k.startswith("p3.")]
    unique = []
    for i in range(min(n, UNIQUE)):
        values = consistent(fmt, rng)
        if i % 10 == 0:  # 10 %: one figure off by one
            key = rng.choice(keys)
            values[key] += 1
        path = folder / f"u{i:04d}.xlsx"
        path.write_bytes(render(fmt, agency=f"单位{i:04d}", year=2025, values=values))
        unique.append(path)
    files = list(unique)
    for i in range(len(unique), n):
        dest = folder / f"c{i:05d}.xlsx"
        shutil.copyfile(unique[i % len(unique)], dest)
        files.append(dest)
    return files


def peak_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def naive(files: list[Path]) -> float:
    import pandas as pd
    import pandera.pandas as pa
    from openpyxl import load_workbook

    from toolkit.checking import schemas
    from toolkit.formats import spec

    fmt = spec.get()
    # The same rules in one schema, validated once per file.
    sums = schemas.sums_schema(fmt)
    schema = pa.DataFrameSchema(sums.columns, checks=schemas.figures_schema(fmt).checks + sums.checks)
    start = time.perf_counter()
    for path in files:
        wb = load_workbook(path, data_only=True)
        row = {}
        for f in fmt.figures.values():
            sheet, ref = next(wb.defined_names[f.name].destinations)
            value = wb[sheet][ref.replace("$", "")].value
            row[f.key] = float(value) if isinstance(value, (int, float)) else float("nan")
        frame = pd.DataFrame([row], dtype="float64")
        try:
            schema.validate(frame, lazy=True)
        except Exception:
            pass
    return len(files) / (time.perf_counter() - start)


def one(n: int, n_naive: int, workers: int | None) -> None:
    from toolkit.outputs import check

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        files = make_returns(folder, n)
        made = time.perf_counter() - t
        start = time.perf_counter()
        reports = check.read_reports(files, workers=workers)
        ours = n / (time.perf_counter() - start)
        failed = sum(r.status != "pass" for r in reports)
        me, kids = peak_mb()
        line = (f"N={n}: 本管线 {ours:,.0f} 个/秒（{failed} 个需修改）；"
                f"峰值内存 主进程 {me:,.0f} MB，工作进程 {kids:,.0f} MB；生成用时 {made:.1f} 秒")
        if n_naive:
            slow = naive(files[:n_naive])
            line += f"；朴素管线 {slow:,.1f} 个/秒（抽样 {n_naive} 个）；倍数 {ours / slow:,.0f}×"
        print(line, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="*", default=[2000, 10000])
    ap.add_argument("--naive", type=int, default=100, help="files timed through the naive pipeline")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(args.n[0], args.naive, args.workers)
        return
    for n in args.n:  # a fresh process per N: peak memory is that N's own
        cmd = [sys.executable, __file__, "--one", "--n", str(n), "--naive", str(args.naive if n == args.n[0] else 0)]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
