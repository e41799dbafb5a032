"""IMAP settings for `disclosure collect`, exactly as SMTP's (settings.py): options, then
the environment (DISCLOSURE_IMAP_*), then the [imap] table of the same TOML file
(--config, or ./disclosure-smtp.toml).  The password only from DISCLOSURE_IMAP_PASSWORD
or a prompt, never an option or a file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from toolkit.mailing.settings import DEFAULT_CONFIG, PLAIN, SSL, STARTTLS, SettingsError, _int, _str

ENV_PREFIX = "DISCLOSURE_IMAP_"
PASSWORD_ENV = ENV_PREFIX + "PASSWORD"
DEFAULT_PORT = {SSL: 993, STARTTLS: 143, PLAIN: 143}
SECURITY_ALIASES = {"ssl": SSL, "tls": STARTTLS, "starttls": STARTTLS, "plain": PLAIN, "none": PLAIN}
FIELDS: dict[str, str] = {"host": "HOST", "port": "PORT", "user": "USER", "security": "SECURITY",
                          "cafile": "CAFILE", "folder": "FOLDER", "timeout": "TIMEOUT"}


@dataclass(frozen=True)
class ImapSettings:
    host: str | None = None
    port: int | None = None
    user: str | None = None
    security: str = SSL  # 993 with TLS from the start: what mail providers offer
    cafile: str | None = None
    folder: str = "INBOX"
    timeout: float = 30.0
    password: str | None = field(default=None, repr=False)
    source: str = ""

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORT[self.security]

    def with_password(self, password: str | None) -> "ImapSettings":
        return replace(self, password=password)

    def check(self) -> None:
        where = "请用命令行选项、环境变量 {env} 或配置文件 " + DEFAULT_CONFIG + " 的 [imap] 中的 {key} 设置"
        if not self.host:
            raise SettingsError("未设置 IMAP 服务器地址。" + where.format(env=ENV_PREFIX + "HOST", key="host"))
        if not self.user:
            raise SettingsError("未设置 IMAP 登录用户名。" + where.format(env=ENV_PREFIX + "USER", key="user"))


def load_imap_settings(*, host: str | None = None, port: int | None = None, user: str | None = None,
                       security: str | None = None, cafile: str | Path | None = None,
                       folder: str | None = None, config: str | Path | None = None,
                       env: Mapping[str, str] | None = None, cwd: str | Path | None = None) -> ImapSettings:
    env = os.environ if env is None else env
    options = {"host": host, "port": port, "user": user, "security": security, "cafile": cafile,
               "folder": folder}
    from_file, source = _read_config(config, Path(cwd or "."))
    values: dict[str, object] = {}
    for name, suffix in FIELDS.items():
        for layer in (options, {name: env.get(ENV_PREFIX + suffix) or None}, from_file):
            if layer.get(name) not in (None, ""):
                values[name] = layer[name]
                break
    port = _int(values.get("port"), "IMAP 端口（port）")
    raw = values.get("security")
    if raw is None:
        security = PLAIN if port == 143 else SSL
    else:
        security = SECURITY_ALIASES.get(str(raw).strip().lower())
        if security is None:
            raise SettingsError(f"无法识别的加密方式“{raw}”：可用 ssl（端口 993）、starttls（端口 143）"
                                "或 plain（不加密，仅用于本机）")
    try:
        timeout = float(values.get("timeout") or 30.0)
    except (TypeError, ValueError):
        raise SettingsError(f"超时时间（timeout）应为秒数，而不是“{values.get('timeout')}”") from None
    cafile = _str(values.get("cafile"))
    if cafile and not Path(cafile).is_file():
        raise SettingsError(f"找不到 CA 证书文件：{cafile}")
    return ImapSettings(host=_str(values.get("host")), port=port, user=_str(values.get("user")),
                        security=security, cafile=cafile, folder=_str(values.get("folder")) or "INBOX",
                        timeout=timeout, password=env.get(PASSWORD_ENV) or None, source=source)


def _read_config(config: str | Path | None, cwd: Path) -> tuple[dict[str, object], str]:
    path = Path(config) if config is not None else cwd / DEFAULT_CONFIG
    if not path.is_file():
        if config is not None:
            raise SettingsError(f"找不到配置文件：{path}")
        return {}, ""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise SettingsError(f"配置文件 {path.name} 不是 UTF-8 编码，请另存为 UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"配置文件 {path.name} 格式有误（TOML）：{exc}") from None
    data = data.get("imap")
    if not isinstance(data, dict):
        return {}, ""
    if "password" in data:
        raise SettingsError(f"配置文件 {path.name} 的 [imap] 中不能保存密码：请删除 password 一项，"
                            f"改用环境变量 {PASSWORD_ENV}，或在运行时按提示输入")
    unknown = sorted(k for k in data if k not in FIELDS)
    if unknown:
        raise SettingsError(f"配置文件 {path.name} 的 [imap] 中有无法识别的设置：{'、'.join(unknown)}"
                            f"（可用：{'、'.join(FIELDS)}）")
    return dict(data), str(path)
