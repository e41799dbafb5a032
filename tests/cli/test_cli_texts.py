"""Issue 14 item 10: the command line speaks 中文 throughout — help, metavars, errors, a
typo, a year typed as 二〇二五, Ctrl-C — and lists its commands in the order of the work."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys

import openpyxl
import pytest

from toolkit import __version__
from toolkit.cli.commands import WORKFLOW
from toolkit.cli.params import parse_year
from toolkit.formats import spec
from toolkit.reading.roster import RosterEntry, write_sample_roster
from toolkit.template.batch import write_batch

COMMANDS = ("template", "distribute", "collect", "check", "mail", "status", "remind", "aggregate", "rules", "demo")
ENGLISH = re.compile(r"\b(OPTIONS|COMMAND|ARGS|TEXT|INTEGER|FLOAT|PATH|PATHS|SOURCES|FOLDER|OUTDIR|"
                     r"TEMPLATE_DIR|Usage|Options|Arguments|Commands|Did you mean|integer)\b")


def disclosure(*args, columns: int | None = 80, **kw):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-c", "from toolkit.cli import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env, **kw)


def test_commands_listed_in_workflow_order():
    assert WORKFLOW == COMMANDS
    done = disclosure("--help")
    assert done.returncode == 0
    listed = [m.group(1) for m in re.finditer(r"^│ (\w+) ", done.stdout, re.M) if m.group(1) in COMMANDS]
    assert listed == list(COMMANDS)
    assert "用法： disclosure [选项] 命令 [参数]..." in done.stdout


@pytest.mark.parametrize("command", [None, *COMMANDS])
@pytest.mark.parametrize("columns", [80, 120])
def test_help_is_chinese_and_whole(command, columns):
    done = disclosure(*([command] if command else []), "--help", columns=columns)
    assert done.returncode == 0, done.stderr
    assert not ENGLISH.findall(done.stdout), ENGLISH.findall(done.stdout)
    assert "…" not in done.stdout  # 中文 help folded at the edge, never cut
    usage = next(line for line in done.stdout.splitlines() if "用法：" in line)
    assert "[选项]" in usage


def test_metavars_name_their_kind_in_chinese():
    out = disclosure("check", "--help", columns=120).stdout
    assert "文件或文件夹..." in out and "文本" in out and "整数" in out and "数字" in out
    assert "[演示文件夹]" in disclosure("demo", "--help").stdout
    assert "年份" in disclosure("template", "--help").stdout


def test_check_help_shows_the_limits_defaults():
    from toolkit.workbook.limits import Limits

    out = " ".join(disclosure("check", "--help", columns=200).stdout.split())
    assert f"单个文件大小上限（MB，默认 {Limits().max_file_mb:g}）" in out
    assert f"单个文件处理时间上限（秒，默认 {Limits().max_seconds:g}）" in out


def test_version():
    done = disclosure("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"disclosure {__version__}")


def test_a_typo_is_answered_in_chinese():
    done = disclosure("chek")
    assert done.returncode == 2
    assert "没有“chek”这个命令。" in done.stderr and "是不是要输入 'check'？" in done.stderr
    assert "Did you mean" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("typed", ["2025", "２０２５", "二〇二五", "二零二五", "2025年", " 二〇二五年度 "])
def test_year_as_offices_type_it(typed, tmp_path):
    assert parse_year(typed) == 2025
    done = disclosure("template", "--year", typed, "-o", tmp_path / "模板.xlsx")
    assert done.returncode == 0, done.stderr
    fmt = spec.get("gov-2021")
    ws = openpyxl.load_workbook(tmp_path / "模板.xlsx")[fmt.info.sheet]
    assert ws[fmt.info.field("year").area.ref].value == 2025


@pytest.mark.parametrize("typed", ["二〇x", "25", "abc", "二千零二十五"])
def test_a_year_that_is_not_one_is_said_in_chinese(typed, tmp_path):
    done = disclosure("template", "--year", typed, "-o", tmp_path / "模板.xlsx")
    assert done.returncode == 2
    assert f"“{typed}”不是年份，请写四位数字" in re.sub(r"\s*│\s*", "", done.stderr)
    assert "integer" not in done.stderr and not (tmp_path / "模板.xlsx").exists()


def test_a_format_for_other_years_says_its_years(tmp_path):
    done = disclosure("template", "--year", "2025", "--format", "gov-2019", "-o", tmp_path / "x.xlsx")
    assert done.returncode == 2
    assert done.stderr.strip() == ("gov-2019（国办公开办函〔2019〕60号）适用于 2019–2020 年度，不适用于 2025 年度；"
                                   "2025 年度请用 gov-2021，或不写 --format 按年度选择。")


def test_an_empty_folder_is_named(tmp_path):
    empty = tmp_path / "报送"
    empty.mkdir()
    done = disclosure("check", empty, "-o", tmp_path / "out", columns=300)
    assert done.returncode == 1
    assert f"{empty} 中没有找到要校验的文件" in done.stdout


def test_a_missing_previous_names_the_option(tmp_path):
    (tmp_path / "报送").mkdir()
    done = disclosure("check", tmp_path / "报送", "--previous", tmp_path / "上年", "-o", tmp_path / "out",
                      columns=300)
    assert done.returncode == 2
    assert f"找不到 --previous 给出的上年报表：{tmp_path / '上年'}" in done.stdout


def test_ctrl_c_says_interrupted_and_exits_1(tmp_path):
    """Interrupted while an SMTP server keeps it waiting (a real socket that never greets)."""
    folder = tmp_path / "模板"
    write_batch([RosterEntry("甲局", email="jia@example.cn")], folder, year=2025)
    roster = write_sample_roster(tmp_path / "名单.xlsx", [RosterEntry("甲局", email="jia@example.cn")])
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(120)
        proc = subprocess.Popen(
            [sys.executable, "-c", "from toolkit.cli import main; main()", "distribute", str(folder),
             "--roster", str(roster), "--deadline", "2026-01-31", "--smtp-host", "127.0.0.1",
             "--smtp-port", str(server.getsockname()[1]), "--smtp-security", "plain",
             "--from", "office@example.cn"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
        conn, _ = server.accept()  # it is waiting for the greeting now
        with conn:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
            out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert err.strip().endswith("已中断。") and "Traceback" not in err + out


@pytest.mark.parametrize("command", COMMANDS)
def test_arguments_shown_by_their_chinese_metavar_only(command):
    """The 参数 panel names an argument by its 中文 metavar, not by the Python parameter
    (paths, folder, outdir …) that typer would otherwise print in front of it."""
    import click
    import typer

    from toolkit.cli import app

    cmd = typer.main.get_command(app).commands[command]
    arguments = [p for p in cmd.params if isinstance(p, click.Argument)]
    out = disclosure(command, "--help", columns=120).stdout
    if not arguments:
        assert "─ 参数 ─" not in out
        return
    panel = out.split("─ 参数 ─", 1)[1].split("╰", 1)[0]
    for p in arguments:
        assert p.metavar and p.metavar in panel
        assert not re.search(rf"(?<![\w.-]){re.escape(p.name)}(?![\w.-])", panel), (p.name, panel)


# -- messages on an 80-column screen --------------------------------------------------------

def test_fold_breaks_between_characters_never_inside_ascii_or_before_a_closing_mark():
    from rich.cells import cell_len

    from toolkit.cli.fold import fold

    text = ("本列勾稽关系不成立：一 45 + 二 4 = 49，三（七）总计 49 + 四 1 = 50，两者应相等，"
            "请核对这几项；此格填了“251000元”，请只填数字 25.1（251000元 = 25.1万元）。")
    for width in (12, 20, 33, 76):
        lines = fold(text, width)
        assert all(cell_len(line) <= width for line in lines), lines
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost
        assert not any(line[0] in "，。）；”" for line in lines[1:]), lines
        tokens = set(re.findall(r"[\x21-\x7e]+", text))
        assert all(t in tokens or not t.isascii() for line in lines for t in re.findall(r"[\x21-\x7e]+", line))


def test_check_prints_every_message_whole_at_80_columns(template_2021, tmp_path):
    """A message longer than a line is folded under its heading, never cut with "…"."""
    from figures import fill

    from toolkit.formats.samples import consistent

    fmt = spec.get("gov-2021")
    path = fill(template_2021, consistent(fmt, __import__("random").Random(8)), tmp_path / "甲局.xlsx")
    wb = openpyxl.load_workbook(path)
    del wb[fmt.part("p4").sheet]  # a whole table gone: a long S1 message
    wb.save(path)
    done = disclosure("check", path, "-o", tmp_path / "out")
    assert done.returncode == 1, done.stdout + done.stderr
    from rich.cells import cell_len

    findings = done.stdout[:done.stdout.index("共 1 个文件")].splitlines()
    assert "…" not in done.stdout and all(cell_len(line) <= 80 for line in findings)
    flat = re.sub(r"\s+", "", done.stdout)
    title = re.sub(r"\s+", "", fmt.part("p4").title)
    assert f"找不到“{title}”的数字格：整张表格都找不到（工作表被删除或表格标签被改写）" in flat


def test_brackets_in_help_are_text_not_markup():
    """`[imap]` names the TOML section; rich would take it for a style and drop it."""
    done = disclosure("collect", "--help", columns=200)
    assert done.returncode == 0 and "TOML 的 [imap] 部分" in done.stdout, done.stdout


@pytest.mark.parametrize("command", [["status"], ["remind", "--dry-run", "-o", "催报"]])
def test_a_command_that_reads_the_ledger_never_creates_one(tmp_path, command):
    """A mistyped --ledger is said as such (exit 2), and no empty ledger is left behind."""
    missing = tmp_path / "台帐.db"
    done = disclosure(*command, "--ledger", missing, cwd=tmp_path)
    assert done.returncode == 2 and f"找不到台账 {missing}" in done.stderr, done.stdout + done.stderr
    assert not missing.exists()


def test_a_file_name_starting_with_a_dash_gets_a_hint(tmp_path):
    """“-财政局.xlsx” reads as options to click: the message says how to name the file."""
    done = disclosure("check", "-财政局.xlsx", "-o", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 2 and "请在前面加上 ./" in done.stderr, done.stderr
    typo = disclosure("check", tmp_path, "-o", tmp_path / "out", "--bogus")
    assert typo.returncode == 2 and "没有选项" in typo.stderr and "./" not in typo.stderr
