"""findings.json, the stable interface of a check OUTDIR (README): written by `check`,
read by `aggregate` and `mail`.  The one writer and the one reader of that file."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.common import atomic
from toolkit.common.display import encodable
from toolkit.common.paths import absolute
from toolkit.common.layout import FINDINGS_JSON
from toolkit.common.oserrors import why

if TYPE_CHECKING:
    from toolkit.outputs.check import Batch


class FindingsError(ValueError):
    """findings.json missing or not to be relied on; the message is 中文."""


def to_json(batch: "Batch") -> dict:
    files = []
    for report in batch.reports:
        entry = report.to_json()
        entry["path"] = str(absolute(report.path))  # usable from any working folder, even a link loop
        copy = batch.annotated.get(report.path)
        entry["annotated"] = str(copy.relative_to(batch.outdir)) if copy and batch.outdir else None
        files.append(entry)
    formats = sorted({r.format for r in batch.reports if r.format})
    return {
        "format": formats[0] if len(formats) == 1 else formats,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": files,
        "others": [o.to_json() for o in batch.others],
    }


def write(batch: "Batch") -> Path:
    """OUTDIR/findings.json, atomically (a check writes it last)."""
    path = batch.outdir / FINDINGS_JSON
    # Strict JSON (no NaN, no Infinity); a file name that is not UTF-8 kept as \udcxx escapes.
    text = json.dumps(to_json(batch), ensure_ascii=False, indent=1, allow_nan=False)
    atomic.write_text(path, encodable(text))
    return path


def read(outdir: Path) -> dict:
    """findings.json of ``outdir``, checked enough to be relied on: a dict whose ``files``
    is a list of dicts."""
    path = outdir / FINDINGS_JSON
    if not outdir.is_dir():
        raise FindingsError(f"找不到校验结果文件夹：{outdir}")
    if not path.is_file():
        raise FindingsError(f"{outdir} 中没有 {FINDINGS_JSON}：请先运行 disclosure check 校验报送文件，"
                            "再对同一个输出文件夹运行本命令")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FindingsError(f"{path} 无法读取（{why(exc)}）：请重新运行 disclosure check") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise FindingsError(f"{path} 已损坏，无法读取（{exc}）：请重新运行 disclosure check") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise FindingsError(f"{path} 的内容不是校验结果（缺少 files 列表）：请重新运行 disclosure check")
    return data


def listed(outdir: Path) -> list[tuple[Path | None, dict]]:
    """The files findings.json lists, each with its entry; the path is None when the file
    is not found.  A relative path is relative to where check ran: tried as is, then from
    the OUTDIR's parent folder, then from the OUTDIR."""
    out = []
    for entry in read(outdir)["files"]:
        if not entry.get("path"):
            continue
        raw = Path(entry["path"])
        tries = [raw] if raw.is_absolute() else [raw, outdir.parent / raw, outdir / raw]
        out.append((next((p for p in tries if p.is_file()), None), entry))
    return out
