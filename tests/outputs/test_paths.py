"""paths.absolute, the path every output names a file by: the folder resolved (once per
folder and working folder), the file's own name kept, whatever the batch holds."""

from __future__ import annotations

import os

from toolkit.common.paths import absolute


def test_links_dead_links_loops_and_the_working_folder(tmp_path, monkeypatch):
    real = tmp_path / "报送"
    real.mkdir()
    (real / "甲.xlsx").write_bytes(b"x")
    (tmp_path / "链接").symlink_to(real)
    (real / "失效.xlsx").symlink_to(tmp_path / "不存在.xlsx")
    (real / "自身.xlsx").symlink_to(real / "自身.xlsx")
    monkeypatch.chdir(tmp_path)
    assert absolute("报送/甲.xlsx") == real / "甲.xlsx"
    assert absolute("链接/甲.xlsx") == real / "甲.xlsx"  # a folder link is followed
    assert absolute("报送/失效.xlsx") == real / "失效.xlsx"  # a file's own link keeps its name
    assert absolute("报送/自身.xlsx") == real / "自身.xlsx"  # even a loop
    assert absolute("链接") == tmp_path / "链接"
    assert absolute("报送/..") == tmp_path and absolute(".") == tmp_path
    assert absolute(tmp_path / "链接" / ".." / "报送" / "甲.xlsx") == real / "甲.xlsx"
    monkeypatch.chdir(real)  # the same relative name from another working folder
    os.mkdir("报送")
    assert absolute("报送/甲.xlsx") == real / "报送" / "甲.xlsx"
