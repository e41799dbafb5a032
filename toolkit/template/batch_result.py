"""What a batch of templates (batch.write_batch) reports beyond its paths: which
entries could not have their own file name, so the office is told instead of finding a
silent ``_2`` in the folder."""

from __future__ import annotations


class Batch(list):
    """The paths write_batch wrote, in roster order, and ``renamed``: the entries whose
    file name was taken by an earlier entry (the same agency listed twice, or names made
    the same by safe_filename), each as (entry, path written, entry that had the name)."""

    def __init__(self, paths=(), renamed=()):
        super().__init__(paths)
        self.renamed = list(renamed)

    def notes(self) -> list[str]:
        """中文 lines saying what was renamed and why, for the command line."""
        out = []
        for entry, path, first in self.renamed:
            where = f"（名单第 {entry.row} 行）" if getattr(entry, "row", 0) else ""
            if entry.name == first.name:
                why_ = f"“{entry.name}”在名单中出现不止一次{where}"
            else:
                why_ = f"“{entry.name}”{where}与“{first.name}”的文件名相同"
            out.append(f"注意：{why_}，这一份模板另存为 {path.name}；请核对单位名单。")
        return out
