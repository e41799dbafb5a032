"""The limits on the whole file, decided once when it is opened (toolkit.workbook.gate),
for every reader: a return whose unread parts would cost openpyxl minutes and gigabytes
(a theme inflating to 400 MB, an extra hidden sheet at ~1000:1, thousands of sheet
entries pointing at one part) is F6 in check, and annotation, the roster and the
template stamp refuse it the same way, before anything is inflated.

Memory is measured in a subprocess (its own peak RSS) and bounded
generously; time is bounded by the Limits deadline (the verdict must be the gate's, not
"处理时间超过"), never by a timed assertion.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from figures import consistent, fill, rewrite_zip, sha256

from toolkit.formats import spec
from toolkit.workbook.book import open_book, vet
from toolkit.workbook.limits import Limits, Unreadable

FMT = spec.get("gov-2021")
MB = 1024 * 1024
PEAK_MB = 300  # generous: the interpreter with pandas and pandera takes ~150 MB
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _theme_400mb():
    yield b'<?xml version="1.0"?><a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
    pad = b" " * MB
    for _ in range(400):
        yield pad
    yield b"</a:theme>"


def _extra_sheet_60mb():
    """A hidden sheet nobody asks for, ~60 MB of rows at ~1000:1."""
    yield f'<worksheet xmlns="{SHEET_NS}"><sheetData>'.encode()
    rows = b"<row><c><v>1</v></c></row>" * (MB // 26)
    for _ in range(60):
        yield rows
    yield b"</sheetData></worksheet>"


def _add_sheet_entries(n: int):
    """workbook.xml with ``n`` more hidden sheet entries, all pointing at the first sheet."""
    def more(data: bytes) -> bytes:
        extra = "".join(f'<sheet xmlns:r="{RELS_NS}" name="S{k}" sheetId="{100 + k}" state="hidden" r:id="rId1"/>'
                        for k in range(n))
        return data.replace(b"</sheets>", extra.encode() + b"</sheets>")
    return more


def _with_extra_sheet(data: bytes) -> bytes:
    entry = f'<sheet xmlns:r="{RELS_NS}" name="附表" sheetId="99" state="hidden" r:id="rId99"/>'
    return data.replace(b"</sheets>", entry.encode() + b"</sheets>")


def _extra_rel(data: bytes) -> bytes:
    rel = (f'<Relationship Id="rId99" Type="{RELS_NS}/worksheet" Target="worksheets/sheet99.xml"/>')
    return data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")


def _extra_type(data: bytes) -> bytes:
    over = ('<Override PartName="/xl/worksheets/sheet99.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
    return data.replace(b"</Types>", over.encode() + b"</Types>")


HOSTILE = {
    "theme_400mb": ({"xl/theme/theme1.xml": _theme_400mb}, "xl/theme/theme1.xml 解压后为 400.0 MB"),
    "unread_sheet_1000_to_1": ({"xl/workbook.xml": lambda: _with_extra_sheet,
                                "xl/_rels/workbook.xml.rels": lambda: _extra_rel,
                                "[Content_Types].xml": lambda: _extra_type,
                                "xl/worksheets/sheet99.xml": _extra_sheet_60mb}, "xl/worksheets/sheet99.xml 的压缩比为"),
    "3000_sheet_entries": ({"xl/workbook.xml": lambda: _add_sheet_entries(3000)}, "工作簿有 3,005 张工作表，超过上限 255 张"),
}


@pytest.fixture(scope="session")
def good_return(template_2021, tmp_path_factory) -> Path:
    """A return that passes: the template filled with consistent figures."""
    import random

    dest = tmp_path_factory.mktemp("good") / "好.xlsx"
    return fill(template_2021, consistent(FMT, random.Random(3)), dest)


@pytest.fixture(scope="session")
def hostile(good_return, tmp_path_factory) -> dict[str, Path]:
    """The good return with one hostile change each (members streamed: never held)."""
    folder = tmp_path_factory.mktemp("hostile")
    out = {}
    for case, (changes, _) in HOSTILE.items():
        out[case] = rewrite_zip(good_return, {k: make() for k, make in changes.items()}, folder / f"{case}.xlsx")
    return out


def run_measured(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON line; its own peak RSS
    (MB) is added as "peak_mb".  The peak is the interpreter's VmHWM: getrusage's
    ru_maxrss also counts, after a vfork, the peak of the process that started it."""
    driver = code + (
        "\nimport json as _j, re as _re"
        "\n_hwm = _re.search(r'VmHWM:\\s*(\\d+) kB', open('/proc/self/status').read())"
        "\nRESULT['peak_mb'] = int(_hwm.group(1)) / 1024"
        "\nprint(_j.dumps(RESULT, ensure_ascii=False))")
    done = subprocess.run([sys.executable, "-c", driver, *args], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


CHECK = """
import json, sys
from toolkit.outputs import check
batch = check.run([sys.argv[1]], sys.argv[2], workers=1)
entry = json.loads(open(sys.argv[2] + "/findings.json", encoding="utf-8").read())["files"][0]
RESULT = {"status": entry["status"], "findings": [(f["rule"], f["message"]) for f in entry["findings"]],
          "annotated": entry["annotated"]}
"""

ANNOTATE = """
import sys
from toolkit.formats import spec
from toolkit.formats.findings import FileReport, Finding
from toolkit.outputs.annotate import AnnotateError, annotate, annotate_all
fig = spec.get("gov-2021").figures["p3.open.total"]
report = FileReport(path=sys.argv[1], findings=[Finding.of("R6.nil", figure=fig, value="无")])
try:
    annotate(report, sys.argv[2])
    RESULT = {"error": None}
except AnnotateError as exc:
    RESULT = {"error": str(exc)}
RESULT["skipped"] = annotate_all([report], sys.argv[2]).skipped.get(sys.argv[1])
"""


def test_the_good_return_passes(good_return, tmp_path):
    """The control: without its hostile change the same return passes."""
    got = run_measured(CHECK, str(good_return), str(tmp_path / "out"))
    assert got["status"] == "pass", got
    assert got["peak_mb"] < PEAK_MB


@pytest.mark.parametrize("case", HOSTILE)
def test_check_says_f6_before_inflating(hostile, case, tmp_path):
    path = hostile[case]
    before = sha256(path)
    got = run_measured(CHECK, str(path), str(tmp_path / "out"))
    assert got["status"] == "unreadable" and got["annotated"] is None
    [(rule, message)] = got["findings"]
    assert rule == "F6" and HOSTILE[case][1] in message and "处理时间" not in message, message
    assert got["peak_mb"] < PEAK_MB, got
    assert sha256(path) == before


@pytest.mark.parametrize("case", HOSTILE)
def test_annotation_refuses_before_openpyxl_inflates(hostile, case, tmp_path):
    """A report that reached the annotator anyway (a file replaced after the check, a
    caller of annotate()) is refused by the gate, in 中文, with no copy made."""
    got = run_measured(ANNOTATE, str(hostile[case]), str(tmp_path / "out"))
    assert got["error"] is not None and got["error"].startswith(f"{case}.xlsx：未生成批注文件（文件超出限制：")
    assert HOSTILE[case][1] in got["error"] and HOSTILE[case][1] in got["skipped"]
    assert got["peak_mb"] < PEAK_MB, got
    assert not any((tmp_path / "out").rglob("*.xlsx"))


def test_roster_and_template_stamp_are_vetted(hostile, tmp_path):
    from toolkit.mailing.sources import find_templates
    from toolkit.reading.roster import RosterError, read_roster

    roster = shutil.copy(hostile["3000_sheet_entries"], tmp_path / "名单.xlsx")
    with pytest.raises(RosterError) as err:
        read_roster(roster)
    assert str(err.value) == "单位名单 名单.xlsx 无法打开（超出文件限制：工作簿有 3,005 张工作表，超过上限 255 张）"
    folder = tmp_path / "模板"
    folder.mkdir()
    shutil.copy(hostile["theme_400mb"], folder / "甲局.xlsx")
    found, problems = find_templates(folder)
    assert found == [] and problems == [
        "甲局.xlsx：无法打开，已跳过（超出文件限制：xl/theme/theme1.xml 解压后为 400.0 MB，超过上限 100 MB（疑似压缩炸弹））"]


def test_sheet_entries_sharing_one_part_count_once_each(good_return, tmp_path):
    """Fewer entries than max_sheets, but together they make a reader parse more than
    max_uncompressed_mb: refused; the same file under a wider limit opens."""
    path = rewrite_zip(good_return, {"xl/workbook.xml": _add_sheet_entries(200)}, tmp_path / "多表.xlsx")
    part = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size
    narrow = Limits(max_uncompressed_mb=150 * part / MB)
    with pytest.raises(Unreadable) as err:
        open_book(path, narrow)
    assert err.value.code == "F6" and "多张工作表指向同一份数据" in err.value.detail
    assert vet(path, Limits(max_uncompressed_mb=250 * part / MB)) == "xlsx"


def test_total_of_members_is_limited(good_return, tmp_path):
    """Many members, each small enough and not ratio-checked, together too large."""
    junk = {f"xl/media/junk{k}.bin": b"\0" * 900_000 for k in range(4)}
    path = rewrite_zip(good_return, junk, tmp_path / "杂.xlsx")
    with pytest.raises(Unreadable) as err:
        vet(path, Limits(max_uncompressed_mb=3))
    assert err.value.code == "F6" and err.value.detail.startswith("压缩包内各文件解压后共 3.")
    assert vet(path, Limits(max_uncompressed_mb=4)) == "xlsx"


def test_published_docx_is_vetted_before_python_docx(tmp_path):
    """A published report in Word is read by python-docx, which inflates every part: a
    .docx carrying a 400 MB part is F6 before it is opened (the good one reads)."""
    import random

    from published_docs import as_docx

    from toolkit.reading.published.read import read_published

    good = as_docx(FMT, consistent(FMT, random.Random(5)), tmp_path / "年报.docx")
    assert read_published(good).unreadable is None
    bad = rewrite_zip(good, {"word/theme/theme1.xml": _theme_400mb()}, tmp_path / "炸弹.docx")
    result = read_published(bad)
    assert result.unreadable.rule == "F6" and "word/theme/theme1.xml 解压后为 400.0 MB" in result.unreadable.message
