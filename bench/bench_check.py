"""`disclosure check` end to end against the naive pipeline, annotated copies, and memory in N.

    python bench/bench_check.py                       # the targets of issue 12 (below)
    python bench/bench_check.py --runs 2000:0.1 --naive 50 --repeat 1

Each run (N returns, a share of them failing) makes N filled returns from the real
template (a share with one figure off by one), then times, in one process:
 - `check`: check.run on the folder, end to end: sniffing, reading in a worker pool,
   pandera validation, findings.json, an annotated copy per failing return, 汇总.xlsx;
 - annotated copies alone (annotate_all again on the same reports, same pool);
 - the naive pipeline on a sample of the same files: per file an openpyxl full load, a
   one-row frame validated by one pandera schema with the same rules, and for a failing
   file an openpyxl load + comment + save as its annotated copy (files/s extrapolates);
and prints files/s, copies/s, the ratio to the naive pipeline measured in the same run,
peak memory (this process; the largest worker) and the machine's load (`uptime`: the
figures are for a machine that may be shared).  Each run is a fresh process, so its
peak memory is its own; a run of up to 2,000 returns is made ``--repeat`` times (fresh
returns, fresh process each: this machine's speed drifts by up to a quarter within an
hour) and the median files/s is printed after them.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

UNIQUE = 200  # distinct workbooks; the rest are copies sent under other agency names
RUNS = ("2000:0.1", "2000:0.3", "10000:0.1")  # N:failing share


def make_returns(folder: Path, n: int, failing: float = 0.1) -> list[Path]:
    from figures import consistent

    from toolkit.formats import spec
    from toolkit.template.writer import render

    fmt = spec.get()
    rng = random.Random(7)
    keys = [k for k in fmt.figures if k.startswith("p3.")]
    unique = []
    bad = round(failing * 10)
    for i in range(min(n, UNIQUE)):
        values = consistent(fmt, rng)
        if i % 10 < bad:  # this share: one figure off by one
            key = rng.choice(keys)
            values[key] += 1
        path = folder / f"u{i:04d}.xlsx"
        path.write_bytes(render(fmt, agency=f"单位{i:04d}", year=2025, values=values))
        unique.append(path)
    files = list(unique)
    for i in range(len(unique), n):
        dest = folder / f"c{i:05d}.xlsx"
        source = unique[i % len(unique)]
        renamed(source, dest, f"单位{i % len(unique):04d}".encode(), f"单位{i:05d}".encode())
        files.append(dest)
    return files


def renamed(source: Path, dest: Path, old: bytes, new: bytes) -> None:
    """A copy of ``source`` sent by another agency: the agency name replaced in every
    part (agency block, stamp), so that a batch has as many agencies as files, as a real
    one does, and no duplicate handling runs that a real batch would not need."""
    import zipfile

    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info).replace(old, new), compress_type=zipfile.ZIP_DEFLATED)


def peak_mb() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def naive(files: list[Path], outdir: Path) -> float:
    import pandas as pd
    import pandera.pandas as pa
    from openpyxl import load_workbook
    from openpyxl.comments import Comment

    from toolkit.checking import schemas
    from toolkit.formats import spec

    fmt = spec.get()
    # The same rules in one schema, validated once per file.
    sums = schemas.sums_schema(fmt)
    schema = pa.DataFrameSchema(sums.columns, checks=schemas.figures_schema(fmt).checks + sums.checks)
    outdir.mkdir(parents=True, exist_ok=True)
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
        except pa.errors.SchemaErrors:  # a failing return: its annotated copy, the naive way
            copy = load_workbook(path)
            first = next(iter(fmt.figures.values()))
            copy[first.sheet][first.cell].comment = Comment("校验意见", "校验工具")
            copy.save(outdir / path.name)
    return len(files) / (time.perf_counter() - start)


def load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        return f"loadavg {os.getloadavg()}"


def one(n: int, failing: float, n_naive: int, workers: int | None) -> None:
    from toolkit.outputs import check
    from toolkit.outputs.annotate import annotate_all

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        t = time.perf_counter()
        files = make_returns(folder, n, failing)
        made = time.perf_counter() - t
        before = load()
        start = time.perf_counter()
        batch = check.run([folder], Path(tmp) / "out", workers=workers)
        ours = n / (time.perf_counter() - start)
        failed = sum(r.status != "pass" for r in batch.reports)
        start = time.perf_counter()
        copies = annotate_all(batch.reports, Path(tmp) / "out2", workers=workers or os.cpu_count() or 1)
        per_copy = len(copies.paths) / (time.perf_counter() - start)
        me, kids = peak_mb()
        line = (f"N={n}，{failing:.0%} 有错：check 全流程 {ours:,.0f} 个/秒（{failed} 个需修改，"
                f"批注副本 {len(batch.annotated)} 个）；批注副本单独 {per_copy:,.0f} 个/秒；"
                f"峰值内存 主进程 {me:,.0f} MB，最大工作进程 {kids:,.0f} MB；生成用时 {made:.1f} 秒")
        if n_naive:
            sample = files[:n_naive]
            slow = naive(sample, Path(tmp) / "naive")
            line += f"；朴素管线 {slow:,.1f} 个/秒（抽样 {len(sample)} 个，同一次运行）；倍数 {ours / slow:,.0f}×"
        print(line, flush=True)
        print(f"  负载：开始 {before}；结束 {load()}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", nargs="*", default=list(RUNS), help="N:failing share, e.g. 2000:0.1")
    ap.add_argument("--naive", type=int, default=100, help="files timed through the naive pipeline")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3,
                    help="fresh processes per run of up to 2,000 returns (the median is printed)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        n, failing = args.runs[0].split(":")
        one(int(n), float(failing), args.naive, args.workers)
        return
    for run in args.runs:  # a fresh process per run: peak memory is its own
        n = int(run.split(":")[0])
        cmd = [sys.executable, __file__, "--one", "--runs", run,
               "--naive", str(args.naive if n <= 2000 else 0)]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        # This machine's speed drifts (a shared host): the same
        # run is repeated and its median printed, each repetition with its own naive figure.
        rates = []
        for _ in range(args.repeat if n <= 2000 else 1):
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            print(out, end="", flush=True)
            rates.append(float(out.split("check 全流程 ", 1)[1].split(" ", 1)[0].replace(",", "")))
        if len(rates) > 1:
            print(f"  N={n}，{float(run.split(':')[1]):.0%} 有错，{len(rates)} 次的中位数：check 全流程 "
                  f"{statistics.median(rates):,.0f} 个/秒（{min(rates):,.0f}–{max(rates):,.0f}）", flush=True)


if __name__ == "__main__":
    main()
