"""How long opening a returned workbook and reading its ~200 named figures takes.

Prints ms per file for toolkit.book (open_book + read_cells of every defined name, grouped
by sheet, as the reader does) and, for comparison, openpyxl.load_workbook (read-only and
full) on the same file.  Usage:  python bench/bench_open.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import openpyxl

from toolkit.book import open_book


def filled_template(path: Path) -> Path:
    """The real template with the seed report's figures (xlsxwriter), or a stand-in with
    3 sheets, merges and 200 named cells when toolkit.template is not there."""
    try:
        from toolkit import samples, spec, template

        fmt = spec.get()
        values = samples.seed_figures() if hasattr(samples, "seed_figures") else None
        return template.write_template(path, fmt, agency="基准测试局", year=2023, values=values)
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


def bench(label: str, fn, n: int, repeat: int = 5) -> float:
    """Best of ``repeat`` runs of ``n`` calls, in CPU ms per call (other processes on the
    machine inflate wall time, not this process's CPU time)."""
    fn()  # warm up (imports, caches)
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - t) / n * 1000)
    print(f"{label:<46} {best:8.2f} ms/文件（CPU）")
    return best


def main(n: int = 500) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = filled_template(Path(tmp) / "filled.xlsx")
        with open_book(path) as book:
            by_sheet: dict[str, list[str]] = {}
            for sheet, ref in book.defined_names.values():
                by_sheet.setdefault(sheet, []).append(ref.split(":")[0])
        cells = sum(len(v) for v in by_sheet.values())
        print(f"文件 {path.stat().st_size / 1024:.1f} KB，{len(by_sheet)} 个工作表，{cells} 个定义名称单元格")

        def ours():
            with open_book(path) as b:
                names = b.defined_names  # noqa: F841 - what the reader touches first
                for sheet, refs in by_sheet.items():
                    b.read_cells(sheet, refs)

        def ours_all():
            with open_book(path) as b:
                b.sheets, b.custom_properties  # noqa: B018
                for sheet, refs in by_sheet.items():
                    b.read_cells(sheet, refs)
                    b.merged_ranges(sheet)

        def ours_open():
            open_book(path).close()

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

        a = bench("toolkit.book: open_book", ours_open, n)
        b = bench("toolkit.book: open + read_cells (names)", ours, n)
        c = bench("  + sheets, custom props, merged_ranges", ours_all, n)
        d = bench("openpyxl.load_workbook(read_only=True)", pyxl_ro, max(5, n // 100), 2)
        e = bench("openpyxl.load_workbook (full)", pyxl_full, max(5, n // 20), 2)
        print(f"单核约 {1000 / b:.0f} 文件/秒；比 openpyxl 只读快 {d / b:.0f} 倍，比完整加载快 {e / b:.0f} 倍")
        del a, c


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
