"""Reports per second of `disclosure check` on published reports, per form.

    python bench/bench_published.py             # 200 reports per form, 2 workers
    python bench/bench_published.py --n 50 --workers 4

Makes reports in every form from the format data and sample figures (text, markdown,
GBK web page, Word with merged cells, and a PDF rendered by LibreOffice from that Word
file when soffice exists; 10 distinct reports per form, the rest copies, which cost the
same to read), then reads and validates each form's batch through checking.batch's
worker pool (check_files) and prints reports/s (pool start-up and one pandera
validation per chunk included), and the time to read one report in this process.  .doc/.wps are not timed: each is one
LibreOffice conversion (seconds).
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

DISTINCT = 10


def make(folder: Path, form: str, n: int) -> list[Path]:
    from published_docs import as_docx, as_html, as_markdown, as_text

    from toolkit.formats import spec
    from toolkit.formats.samples import consistent

    fmt = spec.get("gov-2021")
    folder.mkdir(parents=True)
    made = []
    for i in range(DISTINCT):
        values = consistent(fmt, random.Random(i), high=9)
        agency = f"第{i}局"
        if form == "text":
            p = folder / f"{i}.txt"
            p.write_text(as_text(fmt, values, agency, 2024), encoding="utf-8")
        elif form == "markdown":
            p = folder / f"{i}.md"
            p.write_text(as_markdown(fmt, values, agency, 2024), encoding="utf-8")
        elif form == "html":
            p = folder / f"{i}.html"
            p.write_bytes(as_html(fmt, values, agency, 2024, encoding="gbk"))
        else:
            p = as_docx(fmt, values, folder / f"{i}.docx", agency, 2024)
        made.append(p)
    if form == "pdf":  # one LibreOffice run renders them all
        subprocess.run([shutil.which("soffice"), f"-env:UserInstallation=file://{folder / 'lo'}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(folder), *map(str, made)],
                       check=True, capture_output=True, timeout=600)
        for p in made:
            p.unlink()
        made = [p.with_suffix(".pdf") for p in made]
    for j in range(DISTINCT, n):
        src = made[j % DISTINCT]
        made.append(Path(shutil.copy(src, folder / f"{j}{src.suffix}")))
    return made


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from toolkit.checking.batch import POOL_THRESHOLD, check_files
    from toolkit.reading.published.read import read_published

    forms = ["text", "markdown", "html", "docx"] + (["pdf"] if shutil.which("soffice") else [])
    print(f"{args.n} reports per form, {args.workers} workers (pool from {POOL_THRESHOLD} files)")
    with tempfile.TemporaryDirectory() as tmp:
        for form in forms:
            files = make(Path(tmp) / form, form, args.n)
            start = time.perf_counter()
            reports, _ = check_files(files, workers=args.workers)
            took = time.perf_counter() - start
            ok = sum(r.status == "pass" for r in reports)
            one = []
            for f in files[:5]:  # reading one report in this process (no pool, no validation)
                t0 = time.perf_counter()
                read_published(f)
                one.append(time.perf_counter() - t0)
            print(f"{form:9s} {len(files) / took:8.1f} reports/s   ({took:.1f} s, {ok}/{len(files)} pass; "
                  f"reading one report {sorted(one)[2] * 1000:.0f} ms)")
    if "pdf" not in forms:
        print("pdf       not timed: soffice not installed")


if __name__ == "__main__":
    main()
