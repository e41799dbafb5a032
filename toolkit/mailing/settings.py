"""SMTP settings: from command-line options, the environment, or a TOML file, in that
order of precedence.  The password never comes from a file or an option: only from
DISCLOSURE_SMTP_PASSWORD or an interactive prompt."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

ENV_PREFIX = "DISCLOSURE_SMTP_"
PASSWORD_ENV = ENV_PREFIX + "PASSWORD"
DEFAULT_CONFIG = "disclosure-smtp.toml"  # looked for in the current folder

SSL, STARTTLS, PLAIN = "ssl", "starttls", "plain"
DEFAULT_PORT = {SSL: 465, STARTTLS: 587, PLAIN: 25}
SECURITY_BY_PORT = {465: SSL, 587: STARTTLS, 25: PLAIN}
# Spellings people type for the same thing.
SECURITY_ALIASES = {"ssl": SSL, "tls": STARTTLS, "starttls": STARTTLS, "plain": PLAIN, "none": PLAIN}

# field -> (environment suffix, TOML keys)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "host": ("HOST", ("host",)),
    "port": ("PORT", ("port",)),
    "sender": ("FROM", ("from", "sender")),
    "user": ("USER", ("user", "username")),
    "security": ("SECURITY", ("security",)),
    "sender_name": ("NAME", ("name", "sender_name")),
    "timeout": ("TIMEOUT", ("timeout",)),
    "cafile": ("CAFILE", ("cafile",)),  # an internal CA (政务内网 mail servers often have one)
}


class SettingsError(Exception):
    """Unusable SMTP settings; the message is 中文 and says where to fix them."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int | None = None
    sender: str | None = None  # the From address
    user: str | None = None
    security: str = STARTTLS
    sender_name: str | None = None  # From display name and sign-off, e.g. 某某市政务公开办
    timeout: float = 30.0
    cafile: str | None = None  # PEM file of CA certificates to trust instead of the system's
    password: str | None = field(default=None, repr=False)
    source: str = ""  # where the settings came from, for messages

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORT[self.security]

    def with_password(self, password: str | None) -> "SmtpSettings":
        return replace(self, password=password)

    def check_for_sending(self) -> None:
        """Raises SettingsError unless a message can be sent with these settings."""
        where = "请用命令行选项、环境变量 {env} 或配置文件 " + DEFAULT_CONFIG + " 中的 {key} 设置"
        if not self.host:
            raise SettingsError("未设置 SMTP 服务器地址。" + where.format(env=ENV_PREFIX + "HOST", key="host")
                                + "（只想预览邮件可加 --dry-run）")
        if not self.sender:
            raise SettingsError("未设置发件地址。" + where.format(env=ENV_PREFIX + "FROM", key="from"))


def load_settings(*, host: str | None = None, port: int | None = None, sender: str | None = None,
                  user: str | None = None, security: str | None = None,
                  sender_name: str | None = None, cafile: str | Path | None = None,
                  config: str | Path | None = None,
                  env: Mapping[str, str] | None = None, cwd: str | Path | None = None) -> SmtpSettings:
    """Settings from options (the keyword arguments), then the environment, then the
    config file (``config``, or ./disclosure-smtp.toml when it exists)."""
    env = os.environ if env is None else env
    options = {"host": host, "port": port, "sender": sender, "user": user,
               "security": security, "sender_name": sender_name, "cafile": cafile}
    from_file, source = _read_config(config, Path(cwd or "."))
    values: dict[str, object] = {}
    for name, (suffix, _keys) in FIELDS.items():
        for layer in (options, {name: env.get(ENV_PREFIX + suffix) or None}, from_file):
            if layer.get(name) not in (None, ""):
                values[name] = layer[name]
                break
    return _build(values, env.get(PASSWORD_ENV) or None, source)


def _read_config(config: str | Path | None, cwd: Path) -> tuple[dict[str, object], str]:
    if config is None:
        path = cwd / DEFAULT_CONFIG
        if not path.is_file():
            return {}, ""
    else:
        path = Path(config)
        if not path.is_file():
            raise SettingsError(f"找不到 SMTP 配置文件：{path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise SettingsError(f"SMTP 配置文件 {path.name} 不是 UTF-8 编码，请另存为 UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"SMTP 配置文件 {path.name} 格式有误（TOML）：{exc}") from None
    data.pop("imap", None)  # collect's settings (imapsettings.py) share the file
    if isinstance(data.get("smtp"), dict):  # a [smtp] table, or keys at the top level
        data = data["smtp"]
    if "password" in data:
        raise SettingsError(f"SMTP 配置文件 {path.name} 中不能保存密码：请删除 password 一项，"
                            f"改用环境变量 {PASSWORD_ENV}，或在运行时按提示输入")
    by_key = {key: name for name, (_s, keys) in FIELDS.items() for key in keys}
    unknown = sorted(k for k in data if k not in by_key)
    if unknown:
        raise SettingsError(f"SMTP 配置文件 {path.name} 中有无法识别的设置：{'、'.join(unknown)}"
                            f"（可用：{'、'.join(k for _s, keys in FIELDS.values() for k in keys[:1])}）")
    return {by_key[k]: v for k, v in data.items()}, str(path)


def _build(values: dict[str, object], password: str | None, source: str) -> SmtpSettings:
    port = _int(values.get("port"), "端口（port）")
    raw_security = values.get("security")
    if raw_security is None:
        security = SECURITY_BY_PORT.get(port, STARTTLS) if port else STARTTLS
    else:
        security = SECURITY_ALIASES.get(str(raw_security).strip().lower())
        if security is None:
            raise SettingsError(f"无法识别的加密方式“{raw_security}”：可用 ssl（端口 465）、"
                                "starttls（端口 587）或 plain（不加密，仅用于本机转发）")
    timeout = values.get("timeout")
    try:
        timeout = float(timeout) if timeout not in (None, "") else 30.0
    except (TypeError, ValueError):
        raise SettingsError(f"超时时间（timeout）应为秒数，而不是“{timeout}”") from None
    cafile = _str(values.get("cafile"))
    if cafile and not Path(cafile).is_file():
        raise SettingsError(f"找不到 CA 证书文件：{cafile}")
    user = _str(values.get("user"))
    sender = _str(values.get("sender"))
    if sender is None and user and "@" in user:  # most providers log in with the address
        sender = user
    return SmtpSettings(host=_str(values.get("host")), port=port, sender=sender, user=user,
                        security=security, sender_name=_str(values.get("sender_name")),
                        timeout=timeout, cafile=cafile, password=password, source=source)


def _str(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _int(value: object, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise SettingsError(f"{what}应为整数，而不是“{value}”") from None
    if not 0 < number < 65536:
        raise SettingsError(f"{what}应在 1–65535 之间，而不是 {number}")
    return number
