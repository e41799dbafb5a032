"""Old binary Word (.doc) and WPS (.wps) files: converted to .docx by a real headless
LibreOffice (a private profile, a time limit, the original never touched), then read as
Word.  Without LibreOffice, or when it fails, a clear verdict (P2)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from toolkit.workbook.limits import Limits, Unreadable

CONVERT_SECONDS = 120  # LibreOffice's start-up alone takes seconds on a busy machine


def read_doc(path: Path, limits: Limits):
    from toolkit.reading.published.docx import read_docx

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise Unreadable("P2", "本机没有安装 LibreOffice")
    with tempfile.TemporaryDirectory(prefix="disclosure-doc-") as tmp:
        work = Path(tmp)
        src = work / ("in" + (path.suffix.lower() if path.suffix.lower() in (".doc", ".wps") else ".doc"))
        shutil.copyfile(path, src)  # LibreOffice reads a copy: the original is never opened for writing
        try:
            subprocess.run([soffice, f"-env:UserInstallation=file://{work / 'profile'}", "--headless",
                            "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(work / "out"), str(src)],
                           capture_output=True, timeout=max(CONVERT_SECONDS, limits.max_seconds), check=False)
        except subprocess.TimeoutExpired as exc:
            raise Unreadable("P2", "LibreOffice 转换超时") from exc
        out = work / "out" / (src.stem + ".docx")
        if not out.exists() or out.stat().st_size == 0:
            raise Unreadable("P2", "LibreOffice 未能转换此文件")
        return read_docx(out, form="doc")
