"""The locked template, read back with openpyxl as any recipient's software would."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.utils.cell import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
)
from typer.testing import CliRunner

from toolkit import __version__
from toolkit.cli.commands import template as template_command
from toolkit.common import ownership
from toolkit.formats import samples, spec
from toolkit.formats.catalogue import rules
from toolkit.formats.instructions import lines as instruction_lines
from toolkit.formats.instructions import numeral
from toolkit.formats.instructions import parse as parse_instructions
from toolkit.reading.roster import RosterEntry
from toolkit.template import batch
from toolkit.template import writer as template
from toolkit.template.protection import legacy_hash

FMT = spec.get("gov-2021")
AGENCY, YEAR = "樟树市人力资源和社会保障局", 2023


def cells(area: spec.Area):
    for row in range(area.min_row, area.max_row + 1):
        for col in range(area.min_col, area.max_col + 1):
            yield f"{get_column_letter(col)}{row}"


@pytest.fixture(scope="module")
def agency_path(tmp_path_factory) -> Path:
    return template.write_template(tmp_path_factory.mktemp("t") / "模板.xlsx", FMT, agency=AGENCY, year=YEAR)


@pytest.fixture(scope="module")
def blank_path(tmp_path_factory) -> Path:
    return template.write_template(tmp_path_factory.mktemp("t") / "空白模板.xlsx", FMT)


@pytest.fixture(scope="module")
def wb(agency_path):
    return load_workbook(agency_path)


# -- layout: every label of the format, verbatim, at its place -------------------------


def test_every_label_of_parts_two_three_four_verbatim_at_its_place(wb):
    checked = 0
    for part in FMT.parts:
        ws = wb[part.sheet]
        merged = {str(r) for r in ws.merged_cells.ranges}
        placed = [(part.title_area, part.title)]
        placed += [(area, head.text) for head in part.heads for area in head.areas]
        for table in part.tables:
            placed += [(label.area, label.text) for label in (*table.columns, *table.rows) if label.text]
        for area, text in placed:
            assert ws[area.ref].value == text, (part.sheet, area.ref)
            if area.is_merged:
                assert area.range in merged, (part.sheet, area.range)
            checked += 1
    assert checked == sum(
        1 + sum(len(h.areas) for h in p.heads) + sum(len([x for x in (*t.columns, *t.rows) if x.text]) for t in p.tables)
        for p in FMT.parts
    )
    # Part 三's 25 rows and 7 columns, part 四's 15 columns: the format's size.
    p3 = FMT.part("p3").tables[0]
    assert (len(p3.rows), len(p3.columns)) == (25, 7)
    assert len(FMT.part("p4").tables[0].columns) == 15


def test_figure_merges_follow_the_column_labels(wb):
    merged_figures = [f for f in FMT.figures.values() if f.area.is_merged]
    assert merged_figures, "part 二 has figures spanning B:D"
    for fig in merged_figures:
        assert fig.area.range in {str(r) for r in wb[fig.sheet].merged_cells.ranges}


def test_widths_orientation_print_and_frozen_headers(wb):
    for part in FMT.parts:
        ws = wb[part.sheet]
        for letter, width in part.widths.items():
            idx = column_index_from_string(letter)
            # Adjacent equal columns are stored as one <col min max>.
            dims = [d for d in ws.column_dimensions.values() if d.min <= idx <= d.max]
            assert len(dims) == 1 and dims[0].width == pytest.approx(width, abs=1), (part.sheet, letter)
        assert ws.page_setup.orientation == part.orientation
        assert str(ws.page_setup.paperSize) == "9"  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth in (None, 1)  # 1 is the schema default, left out
        assert ws.page_setup.fitToHeight in (None, 1)  # one page per part (tests/template/test_print.py)
        assert ws.freeze_panes is not None
        assert ws.print_title_rows
        first_figure_row = min(f.area.min_row for f in FMT.part_figures(part.key))
        frozen_row = coordinate_from_string(ws.freeze_panes)[1]
        assert 1 < frozen_row <= first_figure_row
    p3 = wb[FMT.part("p3").sheet]
    # Part 三: the applicant header rows stay on screen and on every printed page.
    top = min(f.area.min_row for f in FMT.part_figures("p3"))
    assert coordinate_from_string(p3.freeze_panes)[1] == top
    assert p3.print_title_rows == f"$1:${top - 1}"


# -- figure cells: 200, unlocked, validated, named -------------------------------------


def test_exactly_200_figure_cells_10_175_15():
    assert len(FMT.figures) == 200
    assert [len(FMT.part_figures(p.key)) for p in FMT.parts] == [10, 175, 15]


def test_figure_cells_and_fill_in_cells_are_the_only_unlocked_cells(wb):
    figure_cells = {(f.sheet, c) for f in FMT.figures.values() for c in cells(f.area)}
    # In a per-agency template the agency name and year are filled in and locked.
    info = FMT.info
    fill_in = {(info.sheet, c) for f in info.fields if f.key not in ("agency", "year") for c in cells(f.area)}
    fixed = {(info.sheet, c) for f in info.fields if f.key in ("agency", "year") for c in cells(f.area)}
    labels = {(info.sheet, c) for f in info.fields for c in cells(f.label_area)}
    unlocked, locked = set(), set()
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=1, max_row=max(ws.max_row, 1), max_col=max(ws.max_column, 1)):
            for cell in row:
                (locked if cell.protection.locked else unlocked).add((ws.title, cell.coordinate))
    assert unlocked == figure_cells | fill_in
    assert fixed <= locked and labels <= locked
    # Exactly one unlocked top-left cell per figure: 200.
    tops = {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if not isinstance(c, MergedCell) and not c.protection.locked and ws.title != info.sheet}
    assert tops == {(f.sheet, f.cell) for f in FMT.figures.values()}
    assert len(tops) == 200


def test_blank_template_leaves_the_whole_agency_block_to_fill(blank_path):
    wb = load_workbook(blank_path)
    ws = wb[FMT.info.sheet]
    for field in FMT.info.fields:
        assert ws[field.area.ref].value is None
        assert ws[field.area.ref].protection.locked is False
        assert ws[field.label_area.ref].value == field.text
        assert ws[field.label_area.ref].protection.locked is True
    # The year cell accepts only years of the format.
    year = FMT.info.field("year")
    dvs = [dv for dv in ws.data_validations.dataValidation if year.area.ref in dv.sqref]
    assert [(dv.type, dv.formula1, dv.formula2) for dv in dvs] == [
        ("whole", str(FMT.years[0]), str(FMT.years[1]))]


def _validation(wb, fig: spec.Figure):
    found = [dv for dv in wb[fig.sheet].data_validations.dataValidation if fig.cell in dv.sqref]
    assert len(found) == 1, (fig.key, len(found))
    return found[0]


def test_every_figure_cell_has_the_validation_of_its_kind(wb):
    kinds = {}
    for fig in FMT.figures.values():
        dv = _validation(wb, fig)
        kinds[fig.kind] = kinds.get(fig.kind, 0) + 1
        if fig.kind == "count":
            assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0"), fig.key
        elif fig.kind == "amount_wan":
            ref = fig.cell
            assert dv.type == "custom"
            assert dv.formula1 == f"AND(ISNUMBER({ref}),{ref}>=0,ROUND({ref},4)={ref})"
        else:
            assert dv.type == "whole" and dv.operator is None  # between
        assert dv.showErrorMessage and dv.showInputMessage
        assert dv.errorStyle in (None, "stop")
        for text in (dv.promptTitle, dv.prompt, dv.errorTitle, dv.error):
            assert text and re.search(r"[\u4e00-\u9fff]", text), (fig.key, text)
        assert len(dv.errorTitle) <= 32 and len(dv.error) <= 255 and len(dv.prompt) <= 255
    assert kinds == {"count": 199, "amount_wan": 1}


def test_every_figure_and_info_field_has_a_workbook_scoped_defined_name(wb):
    names = wb.defined_names
    for fig in FMT.figures.values():
        dn = names[fig.name]
        col, row = coordinate_from_string(fig.cell)
        assert list(dn.destinations) == [(fig.sheet, f"${col}${row}")], fig.key
    for field in FMT.info.fields:
        col, row = coordinate_from_string(field.area.ref)
        assert list(names[field.name].destinations) == [(FMT.info.sheet, f"${col}${row}")]
    ours = [n for n in names if n.startswith(FMT.name_prefix)]
    assert len(ours) == 200 + len(FMT.info.fields)
    for ws in wb.worksheets:
        assert not ws.defined_names  # nothing sheet-scoped
    # No name can be mistaken for an A1 or R1C1 reference.
    for name in ours:
        assert not re.fullmatch(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", name)


# -- protection, stamp ---------------------------------------------------------------


def test_every_sheet_protected_and_structure_locked(wb, agency_path):
    for ws in wb.worksheets:
        assert ws.protection.sheet is True, ws.title
        assert ws.protection.password == legacy_hash(template.DEFAULT_PASSWORD)
        # Rows and columns cannot be inserted or deleted (True means “protected”).
        assert ws.protection.insertRows and ws.protection.deleteRows
        assert ws.protection.insertColumns and ws.protection.deleteColumns
    assert wb.security is not None and wb.security.lockStructure
    with zipfile.ZipFile(agency_path) as z:
        xml = z.read("xl/workbook.xml").decode()
    # Schema order: workbookProtection sits between workbookPr and bookViews.
    assert xml.index("<workbookPr") < xml.index("<workbookProtection") < xml.index("<bookViews")


def test_legacy_hash_matches_excel():
    # Known values of Excel's legacy hash (also what xlsxwriter writes for sheets).
    assert legacy_hash("password") == "83AF"
    assert legacy_hash("") == "CE4B"


def test_stamp_in_very_hidden_meta_sheet_and_custom_properties(wb):
    meta = wb[template.META_SHEET]
    assert meta.sheet_state == "veryHidden"
    stamp = {row[0].value: row[1].value for row in meta.iter_rows(max_col=2)}
    assert stamp == {
        "format": "gov-2021",
        "agency": AGENCY,
        "year": str(YEAR),
        "generator": "disclosure-toolkit",
        "version": __version__,
        "fingerprint": FMT.fingerprint,
    }
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props == {
        "disclosure.format": "gov-2021",
        "disclosure.agency": AGENCY,
        "disclosure.year": str(YEAR),
        "disclosure.version": __version__,
        "disclosure.fingerprint": FMT.fingerprint,
    }
    assert wb.worksheets[0].title == FMT.info.sheet and wb.active.title == FMT.info.sheet


def test_agency_block_and_instructions(wb):
    ws = wb[FMT.info.sheet]
    assert ws[FMT.info.title_area.ref].value == FMT.info.title
    assert ws[FMT.info.field("agency").area.ref].value == AGENCY
    assert ws[FMT.info.field("year").area.ref].value == YEAR
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    lines = instruction_lines(FMT, YEAR)
    assert len(lines) >= 5
    body = texts[texts.index(template.instructions()["heading"]) + 1:]
    assert body == lines
    assert [line.split("、", 1)[0] for line in lines] == ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]
    assert any("0" in t and "留空" in t for t in body)
    assert any("万元" in t and "4 位小数" in t for t in body)
    assert any(FMT.document in t and f"{YEAR}年度" in t for t in body)
    assert not any("{" in t for t in texts)  # every placeholder filled


@pytest.mark.parametrize("format_id, signed", [("gov-2021", False), ("gov-2019", True)])
def test_instructions_are_per_format(format_id, signed):
    """Only the 2019 format has figures that may be negative (本年增/减): the 2021
    template's 填报说明 must not mention them.  The sums it checks come from the catalogue."""
    fmt = spec.get(format_id)
    text = "\n".join(instruction_lines(fmt, None))
    assert ("本年增/减" in text) is signed
    assert ("也不能填负数" in text) is not signed
    for rule_id in ("R1", "R3", "R4", "R5"):
        assert rules()[rule_id].hint in text
    assert "R1" not in text and "R3" not in text  # never an internal rule ID


def test_instructions_refuse_unknown_placeholders_and_kinds():
    good = (spec.TEMPLATES_DIR / "instructions.yaml").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="unknown placeholder"):
        parse_instructions(good.replace("本表按{document}", "本表按{documnet}", 1))
    with pytest.raises(ValueError, match="is no figure kind"):
        parse_instructions(good.replace("if_kind: amount_wan", "if_kind: amount", 1))
    assert [numeral(n) for n in (1, 9, 10, 11, 20, 23)] == ["一", "九", "十", "十一", "二十", "二十三"]


# -- live checks ---------------------------------------------------------------------

_REF = re.compile(r"(\$?)([A-Z]{1,3})(\$?)(\d+)")


def _shift(formula: str, drow: int, dcol: int) -> str:
    def move(m):
        col = column_index_from_string(m[2]) + (0 if m[1] else dcol)
        row = int(m[4]) + (0 if m[3] else drow)
        return f"{get_column_letter(col)}{row}"

    return _REF.sub(move, formula)


def _evaluate(formula: str, values: dict[str, float]) -> bool:
    """The little Excel the conditional formats use: AND, COUNT, SUM, ROUND, ranges, <>;
    a cell missing from ``values`` is blank."""

    def rng(a: str, b: str) -> list[float | None]:
        (ca, ra), (cb, rb) = coordinate_from_string(a), coordinate_from_string(b)
        return [values.get(f"{get_column_letter(c)}{r}")
                for r in range(ra, rb + 1)
                for c in range(column_index_from_string(ca), column_index_from_string(cb) + 1)]

    expr = re.sub(r"([A-Z]+\d+):([A-Z]+\d+)", r'rng("\1","\2")', formula)
    expr = re.sub(r'(?<!")\b([A-Z]{1,3}\d+)\b(?!")', r'rng("\1","\1")', expr)
    expr = expr.replace("SUM(", "total(").replace("ROUND(", "round(").replace("<>", "!=")
    expr = expr.replace("AND(", "every(").replace("COUNT(", "count(")
    expr = re.sub(r"(?<![<>!=])=(?!=)", "==", expr)
    return eval(expr, {"rng": rng, "round": round, "every": lambda *xs: all(xs),
                       "total": lambda *xs: sum(v or 0 for x in xs for v in x),
                       "count": lambda *xs: sum(v is not None for x in xs for v in x)})


def _live_rules(wb, sheet: str) -> dict[str, str]:
    """anchor cell -> its red rule's formula, shifted from the rule's first cell."""
    out = {}
    ws = wb[sheet]
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if rule.type != "expression" or "SUM(" not in rule.formula[0]:
                continue
            assert rule.dxf.fill is not None  # it colours the cell
            ranges = list(cf.sqref.ranges)
            top, left = ranges[0].min_row, ranges[0].min_col
            for r in ranges:
                for row in range(r.min_row, r.max_row + 1):
                    for col in range(r.min_col, r.max_col + 1):
                        coord = f"{get_column_letter(col)}{row}"
                        assert coord not in out, f"two live checks on {coord}"
                        out[coord] = _shift(rule.formula[0], row - top, col - left)
    return out


def test_live_checks_cover_every_equation_of_this_year(wb):
    expected = {(FMT.figures[e.anchor].sheet, FMT.figures[e.anchor].cell)
                for e in FMT.equations if not e.needs_last_year}
    found = {(p.sheet, cell) for p in FMT.parts for cell in _live_rules(wb, p.sheet)}
    assert found == expected
    assert {e.rule for e in FMT.equations if not e.needs_last_year} == {"R1", "R3", "R4", "R5"}


def _seed_numbers() -> dict[str, dict[str, float]]:
    """The seed figures as numbers, per sheet and cell."""
    by_sheet: dict[str, dict[str, float]] = {}
    for key, value in samples.seed_figures().items():
        fig = FMT.figures[key]
        number = float(str(value).strip().strip("\u3000\u00a0"))
        by_sheet.setdefault(fig.sheet, {})[fig.cell] = number
    return by_sheet


def test_live_checks_turn_red_exactly_when_their_equation_fails(wb):
    seed = _seed_numbers()
    # The seed report is consistent: no red anywhere.
    for part in FMT.parts:
        for cell, formula in _live_rules(wb, part.sheet).items():
            assert _evaluate(formula, seed.get(part.sheet, {})) is False, (cell, formula)
    for eq in FMT.equations:
        if eq.needs_last_year:
            continue
        anchor = FMT.figures[eq.anchor]
        formula = _live_rules(wb, anchor.sheet)[anchor.cell]
        zeros = {f.cell: 0 for f in FMT.part_figures(anchor.part)}  # all filled in, consistent
        # Any figure the equation reads, and only those, turns the anchor red when it
        # alone is off …
        for fig in FMT.part_figures(anchor.part):
            red = _evaluate(formula, {**zeros, fig.cell: 3})
            assert red is (fig.key in eq.keys), (eq.rule, eq.anchor, fig.key)
            # … but not while a figure it reads is blank or a word (not checkable, as in
            # the batch check).
            if fig.key in eq.keys:
                other = next(k for k in eq.keys if k != fig.key)
                assert _evaluate(formula, {**zeros, fig.cell: 3, FMT.figures[other].cell: None}) is False
        # … and the two sides agreeing, on any of their terms, clears it.
        for left in eq.lhs:
            for right in eq.rhs:
                values = {**zeros, FMT.figures[left.key].cell: 7}
                values[FMT.figures[right.key].cell] = values.get(FMT.figures[right.key].cell, 0) + 7
                assert _evaluate(formula, values) is False, (eq.rule, left.key, right.key)


def test_blank_figure_cells_are_shaded_until_filled(wb):
    for part in FMT.parts:
        ws = wb[part.sheet]
        blanks = [cf for cf in ws.conditional_formatting for r in cf.rules if r.type == "containsBlanks"]
        assert len(blanks) == 1
        covered = {c for r in blanks[0].sqref.ranges for row in r.cells for c in [row]}
        want = {(f.area.min_row, f.area.min_col) for f in FMT.part_figures(part.key)}
        assert want <= covered


# -- an agency fills it --------------------------------------------------------------


def test_agency_fills_seed_figures_by_defined_names_and_they_read_back_exactly(agency_path, tmp_path):
    seed = samples.seed_figures()
    assert seed["p2.licensing.decisions"] == "\u00a031" and seed["p2.penalty.decisions"] == "2\u3000"
    wb = load_workbook(agency_path)
    for key, value in seed.items():
        (sheet, ref), = wb.defined_names[FMT.figures[key].name].destinations
        wb[sheet][ref.replace("$", "")] = value
    filled = tmp_path / "已填.xlsx"
    wb.save(filled)

    back = load_workbook(filled)
    got = {}
    for key in seed:
        (sheet, ref), = back.defined_names[FMT.figures[key].name].destinations
        got[key] = back[sheet][ref.replace("$", "")].value
    assert got == seed
    assert got["p2.fees.amount"] == 24.1982
    assert got["p2.coercion.decisions"] == "4\u3000"
    # The agency could not have moved anything: the names still point at the spec's cells.
    assert {FMT.figures_by_name[n.lower()].cell for n in back.defined_names if n.lower() in FMT.figures_by_name} \
        == {f.cell for f in FMT.figures.values()}


@pytest.mark.parametrize("format_id", list(spec.formats()))
def test_every_format_in_the_data_renders(format_id, tmp_path):
    """A format added as data alone (gov-2019 …) gets the same template."""
    fmt = spec.get(format_id)
    path = template.write_template(tmp_path / "模板.xlsx", fmt, year=fmt.years[0])
    wb = load_workbook(path)
    for fig in fmt.figures.values():
        (sheet, ref), = wb.defined_names[fig.name].destinations
        cell = wb[sheet][ref.replace("$", "")]
        assert (sheet, cell.coordinate) == (fig.sheet, fig.cell)
        assert cell.protection.locked is False
        dv = _validation(wb, fig)
        assert dv.type == {"count": "whole", "signed_count": "whole", "amount_wan": "custom"}[fig.kind]
        if fig.kind == "signed_count":  # may be negative (2019's 本年增/减)
            assert int(dv.formula1) < 0 < int(dv.formula2)
    for part in fmt.parts:
        assert wb[part.sheet][part.title_area.ref].value == part.title
    assert wb[template.META_SHEET]["B1"].value == format_id
    assert wb[template.META_SHEET]["B6"].value == fmt.fingerprint


# -- the roll-up variant and the batch ------------------------------------------------


def test_unlocked_template_with_values_keeps_the_layout(tmp_path):
    values = {key: i for i, key in enumerate(FMT.figures)}
    values["p2.fees.amount"] = 12.3456
    path = template.write_template(tmp_path / "汇总表.xlsx", FMT, agency="某市", year=2025,
                                   locked=False, values=values)
    wb = load_workbook(path)
    for ws in wb.worksheets:
        assert not ws.protection.sheet
    assert wb.security is None or not wb.security.lockStructure
    for key, value in values.items():
        fig = FMT.figures[key]
        assert wb[fig.sheet][fig.cell].value == value
    p3 = FMT.part("p3")
    assert wb[p3.sheet][p3.title_area.ref].value == p3.title
    assert wb[template.META_SHEET]["B2"].value == "某市"


def test_unknown_figure_key_in_values_is_refused(tmp_path):
    with pytest.raises(template.TemplateError, match="没有这些数字格"):
        template.write_template(tmp_path / "x.xlsx", FMT, values={"p9.nothing": 1})
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_batch_one_template_per_agency_with_safe_unique_names(tmp_path):
    entries = [
        RosterEntry("樟树市人力资源和社会保障局", "张三", "zhang@example.cn"),
        RosterEntry("a/b:c*?", "", ""),
        RosterEntry("a_b_c__", "", ""),  # sanitises to the same name as the one above
        RosterEntry("CON", "", ""),
    ]
    paths = batch.write_batch(entries, tmp_path / "out", year=2025)
    names = [p.name for p in paths]
    assert names[0] == "樟树市人力资源和社会保障局_2025年政府信息公开年度报表.xlsx"
    assert len({n.lower() for n in names}) == 4
    assert all(p.is_file() for p in paths)
    assert not any(set(n) & set('<>:"/\\|?*') for n in names)
    for entry, path in zip(entries, paths):
        wb = load_workbook(path)
        ws = wb[FMT.info.sheet]
        agency_cell = ws[FMT.info.field("agency").area.ref]
        assert agency_cell.value == entry.name and agency_cell.protection.locked
        assert ws[FMT.info.field("year").area.ref].value == 2025
        assert {p.name: p.value for p in wb.custom_doc_props.props}["disclosure.agency"] == entry.name
    first = load_workbook(paths[0])[FMT.info.sheet]
    assert first[FMT.info.field("filler").area.ref].value == "张三"
    assert first[FMT.info.field("email").area.ref].value == "zhang@example.cn"
    assert first[FMT.info.field("email").area.ref].protection.locked is False


def test_output_is_valid_zip_without_leftovers(tmp_path):
    path = template.write_template(tmp_path / "模板.xlsx", FMT)
    assert [p.name for p in tmp_path.iterdir() if p.name != ownership.LEDGER] == ["模板.xlsx"]
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None


# -- the command ---------------------------------------------------------------------

runner = CliRunner()
# The command alone (toolkit/cli.py registers it the same way, beside the others).
app = typer.Typer()
app.callback()(lambda: None)
template_command.register(app)


def test_cli_single_template(tmp_path):
    out = tmp_path / "模板.xlsx"
    result = runner.invoke(app, ["template", "-o", str(out), "--agency", "某某局", "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and "模板" in result.output
    wb = load_workbook(out)
    assert wb[FMT.info.sheet][FMT.info.field("agency").area.ref].value == "某某局"


def test_cli_roster_batch(tmp_path):
    from toolkit.reading.roster import write_sample_roster

    roster = write_sample_roster(tmp_path / "单位名单.xlsx", [RosterEntry("甲局", "李四", "li@example.cn"),
                                                              RosterEntry("乙局")])
    result = runner.invoke(app, ["template", "--roster", str(roster), "-o", str(tmp_path / "out"),
                                 "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == [
        "乙局_2025年政府信息公开年度报表.xlsx", "甲局_2025年政府信息公开年度报表.xlsx"]
    assert "2 个" in result.output


@pytest.mark.parametrize("args, words", [
    (["--format", "gov-1999"], "格式"),
    (["--year", "1990"], "1990"),
    (["--roster", "x.xlsx", "--agency", "甲局"], "--agency"),
])
def test_cli_wrong_usage_exit_2_in_chinese(tmp_path, args, words):
    result = runner.invoke(app, ["template", "-o", str(tmp_path / "模板.xlsx"), *args])
    assert result.exit_code == 2, result.output
    assert words in result.output and re.search(r"[\u4e00-\u9fff]", result.output)
    assert "Traceback" not in result.output
    assert not (tmp_path / "模板.xlsx").exists()


def test_cli_missing_output_is_explained_in_chinese():
    result = runner.invoke(app, ["template", "--agency", "甲局"])
    assert result.exit_code == 2 and "-o" in result.output and "请用" in result.output
