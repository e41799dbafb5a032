"""How long opening a returned workbook and reading its ~200 named figures takes.

Prints CPU ms per file, best of several runs, for one filled template (the real template
with consistent random figures, as an agency would return it):

  toolkit.workbook.book: open_book
  toolkit.workbook.book: open + read_cells (names)          every defined name, grouped by sheet
    + sheets, custom props, merged_ranges          what the reader asks besides the cells
  toolkit.reading.reader.read_return                       the whole reader (sha256, names, labels,
                                                   value classes, agency block)

each twice: with small parts read in one pass (the default, Limits.one_pass_max) and with
every part streamed through expat handlers (one_pass_max=-1: the earlier way of reading a
sheet, for comparison in the same run), then openpyxl on the same file for scale.
The first three rows are the ones this script printed before the one-pass reader, so
figures from older runs compare directly.

Usage:  python bench/bench_open.py [N]  [--no-openpyxl]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from toolkit.workbook.book import open_book  # noqa: E402
from toolkit.workbook.limits import Limits  # noqa: E402


def filled_template(path: Path) -> Path:
    """The real template, filled with consistent random figures (seed 1), or a stand-in
    with 3 sheets, merges and 200 named cells when toolkit.template is not there."""
    try:
        from figures import consistent

        from toolkit.formats import spec
        from toolkit.template.writer import render

        fmt = spec.get()
        path.write_bytes(render(fmt, agency="基准测试局", year=2025, values=consistent(fmt, random.Random(1))))
        return path
    except Exception as exc:  # noqa: BLE001 - a template still being written must not stop the bench
        print(f"（toolkit.template 不可用：{exc}；改用自建工作簿）")
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    n = 0
    for s in range(3):
        ws = wb.add_worksheet(f"表{s + 1}")
        ws.merge_range(0, 0, 0, 9, f"第 {s + 1} 部分")
        for r in range(2, 30):
            ws.write_string(r, 0, f"第 {r} 行的标签")
            for c in range(1, 4 if s != 1 else 9):
                if n < 200:
                    ws.write_number(r, c, (r * c) % 17)
                    wb.define_name(f"gk_{n}", f"='表{s + 1}'!${chr(65 + c)}${r + 1}")
                    n += 1
    wb.close()
    return path


def bench(label: str, fn, n: int, repeat: int = 7) -> float:
    """Best of ``repeat`` runs of ``n`` calls, in CPU ms per call (other processes on the
    machine inflate wall time, not this process's CPU time; the best run is the one they
    disturbed least)."""
    fn()  # warm up (imports, caches)
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - t) / n * 1000)
    print(f"{label:<46} {best:8.2f} ms/文件（CPU）", flush=True)
    return best


def main(n: int = 300, with_openpyxl: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = filled_template(Path(tmp) / "filled.xlsx")
        with open_book(path) as book:
            by_sheet: dict[str, list[str]] = {}
            for sheet, ref in book.defined_names.values():
                by_sheet.setdefault(sheet, []).append(ref.split(":")[0])
        cells = sum(len(v) for v in by_sheet.values())
        print(f"文件 {path.stat().st_size / 1024:.1f} KB，{len(by_sheet)} 个工作表，{cells} 个定义名称单元格")

        lim = Limits()  # the closures below read the mode being timed

        def ours_open():
            open_book(path, lim).close()

        def ours():
            with open_book(path, lim) as b:
                names = b.defined_names  # noqa: F841 - what the reader touches first
                for sheet, refs in by_sheet.items():
                    b.read_cells(sheet, refs)

        def ours_all():
            with open_book(path, lim) as b:
                [s.protected for s in b.sheets], b.custom_properties  # noqa: B018
                for sheet, refs in by_sheet.items():
                    b.read_cells(sheet, refs)
                    b.merged_ranges(sheet)

        def reader():
            from toolkit.reading.reader import read_return

            read_return(path, limits=lim)

        figures: dict[str, dict[str, float]] = {}
        for mode, lim in (("一次读入（默认）", Limits()), ("逐行流式解析（one_pass_max=-1）", Limits(one_pass_max=-1))):  # noqa: B007 - read by the closures
            print(f"—— {mode}")
            figures[mode] = {
                "open": bench("toolkit.workbook.book: open_book", ours_open, n),
                "names": bench("toolkit.workbook.book: open + read_cells (names)", ours, n),
                "all": bench("  + sheets, custom props, merged_ranges", ours_all, n),
                "reader": bench("toolkit.reading.reader.read_return", reader, n),
            }
        one, streamed = figures.values()
        print(f"一次读入比流式解析快：读定义名称 {streamed['names'] / one['names']:.1f} 倍，"
              f"连同工作表信息 {streamed['all'] / one['all']:.1f} 倍，整个读取 {streamed['reader'] / one['reader']:.1f} 倍")
        print(f"单核约 {1000 / one['names']:.0f} 文件/秒（只读定义名称），{1000 / one['reader']:.0f} 文件/秒（整个读取）")
        if with_openpyxl:
            import openpyxl

            def pyxl_ro():
                wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
                for sheet, refs in by_sheet.items():
                    ws = wb[sheet]
                    for ref in refs:
                        ws[ref].value  # noqa: B018
                wb.close()

            def pyxl_full():
                wb = openpyxl.load_workbook(path)
                for sheet, refs in by_sheet.items():
                    ws = wb[sheet]
                    for ref in refs:
                        ws[ref].value  # noqa: B018

            print("—— openpyxl（对照）")
            d = bench("openpyxl.load_workbook(read_only=True)", pyxl_ro, max(2, n // 100), 2)
            e = bench("openpyxl.load_workbook (full)", pyxl_full, max(5, n // 20), 2)
            print(f"比 openpyxl 只读快 {d / one['names']:.0f} 倍，比完整加载快 {e / one['names']:.0f} 倍")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 300, "--no-openpyxl" not in sys.argv)
