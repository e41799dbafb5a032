"""汇总.xlsx's first sheet when a ledger is kept: 报送进度, the campaign per agency (the
same rows as `disclosure status` shows on screen)."""

from __future__ import annotations

from toolkit.outputs import status

SHEET = "报送进度"
WIDTHS = (6, 28, 16, 14, 22, 22, 9)
FILL = {status.PASSED: "#C6EFCE", status.TO_FIX: "#FFC7CE", status.TO_CHECK: "#FFEB9C",
        status.NOT_SUBMITTED: "#FFC7CE"}


def write(wb, progress: status.Progress) -> None:
    """Adds the sheet to an xlsxwriter workbook (call first: sheets keep their order)."""
    ws = wb.add_worksheet(SHEET)
    border = {"border": 1, "border_color": "#999999"}
    title = wb.add_format({"bold": True, "font_size": 14})
    header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "align": "center", "valign": "vcenter",
                            "text_wrap": True, **border})
    cell = wb.add_format({"valign": "top", "text_wrap": True, **border})
    number = wb.add_format({"valign": "top", "num_format": "0", **border})
    fills = {k: wb.add_format({"valign": "top", "bg_color": c, **border}) for k, c in FILL.items()}
    ws.write_string(0, 0, "报送进度：" + progress.headline(), title)
    ws.write_string(1, 0, progress.due_line())
    header_row = 2
    for c, (name, width) in enumerate(zip(status.COLUMNS, WIDTHS)):
        ws.write_string(header_row, c, name, header)
        ws.set_column(c, c, width)
    row = header_row
    for row, values in enumerate(status.rows(progress), header_row + 1):
        # xlsxwriter cannot autofit: a row as tall as its tallest cell's lines
        ws.set_row(row, 15 * max(v.count("\n") + 1 for v in values))
        ws.write_number(row, 0, int(values[0]), number)
        for c, value in enumerate(values[1:-1], 1):
            ws.write_string(row, c, value, cell)
        ws.write_string(row, len(values) - 1, values[-1], fills.get(values[-1], cell))
    for i, line in enumerate(status.used_lines(progress), row + 2):
        ws.write_string(i, 1, line)
    ws.freeze_panes(header_row + 1, 2)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.repeat_rows(header_row)
    ws.fit_to_pages(1, 0)
