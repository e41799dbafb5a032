"""Issue 5: fuzzed returns.  Filled templates are mutated at three levels — the file's
bytes, the bytes of one XML part inside the zip (re-zipped, so the XML parsers are hit
rather than the CRC check), and the cells, sheets and names (through openpyxl) — and the
checker must give every file a report with a verdict, never raise, never fail on an
internal error, and leave every input byte-identical.  A good return rides along in every
batch and must still pass."""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import shutil
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest
from figures import consistent, fill, sha256
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils.cell import get_column_letter

from toolkit.formats import spec
from toolkit.formats.catalogue import rules
from toolkit.formats.findings import FAIL, PASS, UNREADABLE
from toolkit.outputs import check
from toolkit.template.writer import write_template

FMT = spec.get("gov-2021")
FIGURES = list(FMT.figures)
INTERNAL = "读取时出错"  # checking.batch._read_one's verdict for an exception: a bug, never expected
FUZZ = settings(max_examples=20, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------ seeds


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, Path]:
    """A filled return (the mutation seed) and a good return of another agency."""
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    out = {}
    for name, agency, seed in (("seed", "丁县司法局", 1), ("good", "戊县民政局", 2)):
        tpl = write_template(folder / f"{name}.xlsx", FMT, agency=agency, year=2025)
        out[name] = fill(tpl, consistent(FMT, random.Random(seed)))
    return out


def _has_cjk(text: str) -> bool:
    return any(unicodedata.name(ch, "").startswith("CJK UNIFIED") for ch in text)


def check_batch(folder: Path, seeds: dict[str, Path], *, out: Path | None = None) -> None:
    """Run the batch over ``folder`` (plus a copy of the good return) and assert the
    properties every run must have."""
    good = shutil.copy(seeds["good"], folder / "good.xlsx")
    paths = sorted(p for p in folder.iterdir() if p.is_file())
    before = {p: sha256(p) for p in paths}
    if out is None:
        reports = check.read_reports([folder], workers=1)
    else:
        reports = check.run([folder], out, workers=1).reports
    assert {p: sha256(p) for p in paths} == before
    assert sorted(Path(r.path) for r in reports) == paths
    catalogue = rules()
    for r in reports:
        assert r.status in (PASS, FAIL, UNREADABLE)
        if r.status == UNREADABLE:
            assert len(r.findings) == 1 and r.findings[0].rule.startswith("F")
        for f in r.findings:
            assert f.rule in catalogue and f.severity == catalogue[f.rule].severity
            assert INTERNAL not in f.message, (r.path, f.message)
            assert _has_cjk(f.message), f.message
    (g,) = [r for r in reports if Path(r.path) == good]
    assert (g.status, g.findings) == (PASS, []), [f.message for f in g.findings]


# ------------------------------------------------------------------ byte mutations

SNIPPETS = [
    b'<c r="D7" t="s"><v>99999999</v></c>', b'<c r="D7" t="s"><v>-1</v></c>', b'<row r="0">',
    b'<row r="1048577">', b'<row r="x">', b'<c r="XFE1"><v>1</v></c>', b'<c r="D7"><v>1e999</v></c>',
    b'<c r="D7"><v>nan</v></c>', b'<c r="D7"><v></v></c>', b'<c r="D7" t="b"><v>7</v></c>',
    b'<c r="D7" t="d"><v>not-a-date</v></c>', b'<c r="D7" t="e"><v>#N/A</v></c>', b'<c r="D7" s="99999"><v>3</v></c>',
    b'<c r="D7" t="inlineStr"><is><r><t>3</t></r><rPh><t>x</t></rPh></is></c>',
    b'<c r="D8"><f t="shared" si="0"/></c>', b'<c r="D7"><f t="shared" ref="D7:ZZZ99" si="0">D6+</f></c>',
    b'<mergeCell ref="D7:E99"/>', b'<mergeCell ref="A0:"/>', b'</sheetData>', b'<sheetData>',
    b'<definedName name="gk_p3_open_natural">#REF!</definedName>',
    b"<definedName name=\"gk_p3_open_total\">'\xe4\xb8\x89'!$J$1048576</definedName>",
    b'<sheet name="_meta" sheetId="99" state="veryHidden" r:id="rId99"/>',
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>', b"&a;", b"&#0;", b"&#xD800;", b"\xff\xfe\x00", b"]]>",
    b'<numFmt numFmtId="200" formatCode="yyyy-mm-dd"/>', b'<xf numFmtId="14"/>', b'<si><t>\xe6\x97\xa0</t></si>',
    b'<property name="disclosure.format"><vt:lpwstr>gov-2019</vt:lpwstr></property>',
]
OPS = st.lists(st.tuples(st.sampled_from(("flip", "set", "insert", "delete", "truncate", "splice")),
                         st.integers(0, 2**31), st.integers(0, 255), st.sampled_from(SNIPPETS)),
               min_size=1, max_size=6)


def mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for op, at, byte, snippet in ops:
        if not b:
            break
        i = at % len(b)
        if op == "flip":
            b[i] ^= 1 << (byte % 8)
        elif op == "set":
            b[i] = byte
        elif op == "insert":
            b[i:i] = bytes([byte]) * (1 + byte % 4)
        elif op == "delete":
            del b[i:i + 1 + byte % 64]
        elif op == "truncate":
            del b[i:]
        else:
            b[i:i] = snippet
    return bytes(b)


@FUZZ
@given(ops=st.lists(OPS, min_size=1, max_size=2))
def test_fuzzed_file_bytes(seeds, tmp_path_factory, ops):
    folder = tmp_path_factory.mktemp("bytes")
    raw = seeds["seed"].read_bytes()
    for i, file_ops in enumerate(ops):
        (folder / f"变异{i}.xlsx").write_bytes(mutate(raw, file_ops))
    check_batch(folder, seeds)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _xml_members(path: Path) -> list[str]:
    return sorted(n for n in _members(path) if n.endswith((".xml", ".rels")))


@FUZZ
@given(data=st.data())
def test_fuzzed_xml_inside_the_zip(seeds, tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("xml")
    members = _members(seeds["seed"])
    names = _xml_members(seeds["seed"])
    for i in range(data.draw(st.integers(1, 2))):
        changed = dict(members)
        for name in data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)):
            changed[name] = mutate(members[name], data.draw(OPS))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, blob in changed.items():
                z.writestr(name, blob)
        (folder / f"变异{i}.xlsx").write_bytes(buf.getvalue())
    check_batch(folder, seeds)


# ------------------------------------------------------------------ cell, sheet and name mutations

TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), TEXTS,
    st.sampled_from(["无", "—", "3件", "251000元", "\u3000", "２", "2\u3000", "=1/0", "=SUM(A1:A3)",
                     "=D7+", "#REF!", "'5", "１,０００", "-0", "1e400", "TRUE"]),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 1, 1)),
    st.dates(min_value=dt.date(1900, 3, 1)), st.times(), st.timedeltas(max_value=dt.timedelta(days=99999)),
)
SHEET_TITLES = st.text(alphabet="三四、依申请公开复议 ()'_meta填报说明xX1", min_size=1, max_size=31)
CELL_OPS = st.lists(st.one_of(
    st.tuples(st.just("figure"), st.sampled_from(FIGURES), VALUES),
    st.tuples(st.just("cell"), st.integers(0, 9), st.integers(1, 60), st.integers(1, 20), VALUES),
    st.tuples(st.just("merge"), st.integers(0, 9), st.integers(1, 40), st.integers(1, 16),
              st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("delete_sheet"), st.integers(0, 9)),
    st.tuples(st.just("rename_sheet"), st.integers(0, 9), SHEET_TITLES),
    st.tuples(st.just("hide_sheet"), st.integers(0, 9), st.sampled_from(("hidden", "veryHidden"))),
    st.tuples(st.just("drop_name"), st.sampled_from(FIGURES)),
    st.tuples(st.just("aim_name"), st.sampled_from(FIGURES), st.integers(0, 9), st.integers(1, 1_048_576),
              st.integers(1, 16_384)),
    st.tuples(st.just("rows"), st.integers(0, 9), st.integers(1, 40), st.integers(-3, 3)),
    st.tuples(st.just("cols"), st.integers(0, 9), st.integers(1, 16), st.integers(-3, 3)),
), min_size=1, max_size=8)


def _apply(wb, op) -> None:
    """One edit; an edit openpyxl itself refuses (an invalid title, the last sheet) is
    skipped: what is fuzzed here is our reader, not openpyxl."""
    kind, *args = op
    sheets = wb.worksheets
    pick = lambda i: sheets[i % len(sheets)]  # noqa: E731
    if kind == "figure":
        fig = FMT.figures[args[0]]
        if fig.sheet in wb.sheetnames:
            _set(wb[fig.sheet], fig.cell, args[1])
    elif kind == "cell":
        ws = pick(args[0])
        _set(ws, ws.cell(args[1], args[2]).coordinate, args[3])
    elif kind == "merge":
        i, r, c, h, w = args
        if h or w:
            pick(i).merge_cells(start_row=r, start_column=c, end_row=r + h, end_column=c + w)
    elif kind == "delete_sheet":
        if len(sheets) > 1:
            wb.remove(pick(args[0]))
    elif kind == "rename_sheet":
        ws = pick(args[0])
        if args[1] not in wb.sheetnames:
            ws.title = args[1]
    elif kind == "hide_sheet":
        pick(args[0]).sheet_state = args[1]
    elif kind == "drop_name":
        wb.defined_names.pop(FMT.figures[args[0]].name, None)
    elif kind == "aim_name":
        dn = wb.defined_names.get(FMT.figures[args[0]].name)
        if dn is not None:  # anywhere on the grid (ws.cell would create the cell: not wanted)
            title = pick(args[1]).title.replace("'", "''")
            dn.attr_text = f"'{title}'!${get_column_letter(args[3])}${args[2]}"
    elif kind == "rows":
        i, at, n = args
        ws = pick(i)
        (ws.insert_rows if n > 0 else ws.delete_rows)(at, abs(n) or 1)
    elif kind == "cols":
        i, at, n = args
        ws = pick(i)
        (ws.insert_cols if n > 0 else ws.delete_cols)(at, abs(n) or 1)


def _set(ws, ref: str, value) -> None:
    cell = ws[ref]
    if type(cell).__name__ == "MergedCell":
        return  # openpyxl cannot write into a merged-over cell; Excel cannot either
    cell.value = value


@settings(FUZZ, max_examples=20)
@given(ops=CELL_OPS)
def test_fuzzed_cells_sheets_and_names(seeds, tmp_path_factory, ops):
    """The full run (annotated copies, summary, findings.json) on each mutated return."""
    folder = tmp_path_factory.mktemp("cells")
    wb = load_workbook(seeds["seed"])
    for op in ops:
        try:
            _apply(wb, op)
        except (ValueError, TypeError, IndexError, KeyError):
            continue  # refused by openpyxl (an invalid title, a range off the grid)
    if not any(ws.sheet_state == "visible" for ws in wb.worksheets):
        wb.worksheets[0].sheet_state = "visible"
    wb.active = next(i for i, ws in enumerate(wb.worksheets) if ws.sheet_state == "visible")
    try:
        wb.save(folder / "变异.xlsx")
    except (ValueError, TypeError, OverflowError):
        (folder / "变异.xlsx").unlink(missing_ok=True)
        assume(False)  # a workbook openpyxl cannot write (e.g. an int past 2**64)
    check_batch(folder, seeds, out=tmp_path_factory.mktemp("out"))


# ------------------------------------------------------------------ what the fuzz found, pinned


def corrupt_deflate(path: Path, member: str, dest: Path) -> Path:
    """``path`` with one bit flipped inside ``member``'s compressed data, at the first
    place where that makes the deflate stream itself invalid (zlib.error), not merely
    the CRC wrong."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    n_name, n_extra = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little"), \
        int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    start = info.header_offset + 30 + n_name + n_extra
    for at in range(start, start + info.compress_size):
        data = bytearray(raw[start:start + info.compress_size])
        data[at - start] ^= 1
        try:
            zlib.decompressobj(-15).decompress(bytes(data))
        except zlib.error:
            raw[at] ^= 1
            dest.write_bytes(bytes(raw))
            return dest
    raise AssertionError(f"no single bit breaks {member}'s deflate stream")


def test_broken_deflate_in_styles_is_a_verdict_from_the_reader(seeds, tmp_path):
    """Found by test_fuzzed_file_bytes: styles.xml is read lazily (when a figure cell's
    style is first looked up), and a broken deflate stream there raised zlib.error out
    of the reader; check.py's last-resort net turned it into “读取时出错：error”."""
    from toolkit.reading.reader import read_return

    bad = corrupt_deflate(seeds["seed"], "xl/styles.xml", tmp_path / "样式损坏.xlsx")
    result = read_return(bad)
    assert result.unreadable is not None and result.unreadable.rule == "F3"
    message = result.unreadable.message
    assert message.startswith("文件已损坏，无法打开（") and "压缩数据已损坏" in message, message
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(bad, folder / bad.name)
    check_batch(folder, seeds)


def test_broken_deflate_in_styles_is_unreadable_at_the_book_level(seeds, tmp_path):
    """The container's promise (toolkit/book.py): every bad file raises Unreadable, no
    other exception.  Found by the fuzz: the lazily read styles part let zlib.error out
    of read_cells (reader.py keeps a backstop for such escapes)."""
    from toolkit.workbook.book import open_book
    from toolkit.workbook.limits import Unreadable

    bad = corrupt_deflate(seeds["seed"], "xl/styles.xml", tmp_path / "样式损坏.xlsx")
    sheet = FMT.figures["p3.open.natural"].sheet
    with open_book(bad) as book, pytest.raises(Unreadable) as err:
        book.read_cells(sheet, [FMT.figures["p3.open.natural"].cell])
    assert err.value.code == "F3"


# ------------------------------------------------------------------ names, options, rosters (issue 13)

NAME_BYTES = st.binary(min_size=1, max_size=120).map(lambda b: b.replace(b"/", b"_").replace(b"\0", b"_"))


@settings(FUZZ, max_examples=15)
@given(names=st.lists(NAME_BYTES, min_size=1, max_size=4, unique=True))
def test_fuzzed_file_names(seeds, tmp_path_factory, names):
    """Any bytes a file system allows in a name (not UTF-8, control characters, markup):
    every file is reported, findings.json is strict JSON naming the real files."""
    import json

    from toolkit.common.display import shown_name

    folder = tmp_path_factory.mktemp("names")
    made = []
    for raw in names:
        name = os.fsdecode(raw + b".xlsx")
        if name.startswith(("~$", ".")):
            continue
        made.append(Path(shutil.copy(seeds["seed"], folder / name)))
    out = folder.parent / f"{folder.name}-out"
    check_batch(folder, seeds, out=out)
    data = json.loads((out / "findings.json").read_text(encoding="utf-8"),
                      parse_constant=lambda c: pytest.fail(f"findings.json holds {c}"))
    assert sorted(f["path"] for f in data["files"]) == sorted(str(p) for p in [*made, folder / "good.xlsx"])
    for p in made:
        assert not any(ch in shown_name(p) for ch in "\x1b\x07\x9b\n\r")


OPTION_VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-5, 5).map(str),
                          st.sampled_from(["inf", "-inf", "nan", "NaN", "1e999", "0", "-0", "", " ", "二十", "1,5"]),
                          st.text(max_size=6))


@settings(FUZZ, max_examples=25)
@given(option=st.sampled_from(["--max-mb", "--seconds", "--workers"]), value=OPTION_VALUES)
def test_fuzzed_options(seeds, tmp_path_factory, option, value):
    """Whatever is typed after an option: a run (0/1) or a usage error (2), in 中文."""
    from typer.testing import CliRunner

    from toolkit.cli import app

    folder = tmp_path_factory.mktemp("opts")
    shutil.copy(seeds["good"], folder / "good.xlsx")
    result = CliRunner().invoke(app, ["check", str(folder), "-o", str(folder.parent / f"{folder.name}-out"),
                                      "--workers", "1", option, value] if option != "--workers"
                                else ["check", str(folder), "-o", str(folder.parent / f"{folder.name}-out"),
                                      option, value])
    assert result.exit_code in (0, 1, 2), (option, value, result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 2:
        assert "无效" in result.output or "不是" in result.output, result.output
    elif result.exit_code == 1:  # a limit below the file's size or reading time: F6, figures readable
        assert "F6" in result.output and " 0.0 MB" not in result.output, result.output
        assert "超过上限" in result.output or (option == "--seconds" and "处理时间超过" in result.output), result.output
    else:
        assert "通过 1" in result.output


ROSTER_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(FUZZ, max_examples=15)
@given(rows=st.lists(st.tuples(ROSTER_TEXT, ROSTER_TEXT, ROSTER_TEXT), min_size=1, max_size=5))
def test_fuzzed_rosters(tmp_path_factory, rows):
    """Any text in a roster's cells (line breaks, dots, slashes, control characters):
    a RosterError in 中文, or templates and drafts for every agency, none hidden."""
    import csv
    import datetime

    from toolkit.mailing import SmtpSettings, distribute_templates
    from toolkit.reading.roster import RosterError, read_roster
    from toolkit.template.batch import write_batch

    folder = tmp_path_factory.mktemp("roster")
    path = folder / "名单.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([["单位名称", "联系人", "电子邮箱"], *map(list, rows)])
    try:
        entries = read_roster(path)
    except RosterError as exc:
        assert _has_cjk(str(exc))
        return
    assert all("\n" not in e.name and "\r" not in e.name for e in entries)
    paths = write_batch(entries, folder / "模板", year=2025)
    assert len(paths) == len(entries) and not [p for p in paths if p.name.startswith(".")]
    run = distribute_templates(folder / "模板", entries, SmtpSettings(), deadline=datetime.date(2026, 1, 31),
                               year=2025, dry_run=True)
    assert all(_has_cjk(line) for line in run.lines_zh())
