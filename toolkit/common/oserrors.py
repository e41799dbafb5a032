"""Why a file operation failed, in 中文 (the system's own words are English)."""

from __future__ import annotations

import errno

REASONS = {
    errno.ENOENT: "文件或文件夹不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EEXIST: "已有同名的文件",
    errno.ENOSPC: "磁盘空间不足",
    errno.EISDIR: "这是一个文件夹",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.EROFS: "磁盘是只读的",
    errno.ENAMETOOLONG: "文件名太长",
    errno.EBUSY: "文件正被占用",
}


def why(exc: BaseException) -> str:
    """A short 中文 reason for ``exc``; never the English message or a class name."""
    if isinstance(exc, OSError):
        return REASONS.get(exc.errno, f"系统错误（错误号 {exc.errno}）" if exc.errno else "系统错误")
    return "内部错误"
