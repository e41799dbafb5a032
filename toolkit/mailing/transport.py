"""Talking to the SMTP server: SSL (465), STARTTLS (587) or plain (a local relay), login,
and every way it can fail turned into a 中文 sentence.  A failure that concerns one
message (a refused recipient, a refused body) is ``Refused``; one that ends the
conversation (network, login, the server hanging up) is ``MailError``."""

from __future__ import annotations

import smtplib
import socket
import ssl
from typing import Callable

from toolkit.mailing.settings import PASSWORD_ENV, SSL, STARTTLS, SmtpSettings


class MailError(Exception):
    """The run cannot go on (no connection, login refused, connection lost); 中文."""


class ConnectionLost(MailError):
    """The server or the network went away while sending."""


class Refused(Exception):
    """The server refused this one message; ``permanent`` tells a 5xx from a 4xx."""

    def __init__(self, detail: str, permanent: bool = True):
        super().__init__(detail)
        self.permanent = permanent


def _text(message: object) -> str:
    if isinstance(message, bytes):
        return message.decode("utf-8", "replace").strip()
    return str(message).strip()


class SmtpTransport:
    """One connection, opened on the first message (a run that has nothing new to send
    never connects), closed by ``close()``."""

    def __init__(self, settings: SmtpSettings, password_prompt: Callable[[], str] | None = None):
        self.settings = settings
        self.password_prompt = password_prompt
        self._smtp: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.effective_port}"

    def ensure_connected(self) -> None:
        if self._smtp is None:
            self.connect()

    def connect(self) -> None:
        s = self.settings
        s.check_for_sending()
        port = s.effective_port
        try:
            context = ssl.create_default_context(cafile=s.cafile)
        except (ssl.SSLError, OSError) as exc:
            raise MailError(f"CA 证书文件 {s.cafile} 无法使用（{_describe(exc)}），请确认它是 PEM 格式的证书") from None
        try:
            if s.security == SSL:
                smtp = smtplib.SMTP_SSL(s.host, port, timeout=s.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.host, port, timeout=s.timeout)
        except socket.gaierror:
            raise MailError(f"找不到 SMTP 服务器“{s.host}”（域名无法解析），请检查服务器地址") from None
        except ConnectionRefusedError:
            raise MailError(f"无法连接 SMTP 服务器 {self.where}（连接被拒绝），请检查服务器地址和端口") from None
        except (TimeoutError, socket.timeout):
            raise MailError(f"连接 SMTP 服务器 {self.where} 超时，请检查网络、服务器地址和端口") from None
        except ssl.SSLCertVerificationError as exc:
            raise MailError(self._untrusted(exc)) from None
        except ssl.SSLError as exc:
            raise MailError(f"与 SMTP 服务器 {self.where} 建立 SSL 加密连接失败（{exc.reason or exc}）。"
                            "端口 465 一般用 ssl，端口 587 一般用 starttls") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"无法连接 SMTP 服务器 {self.where}：{_describe(exc)}") from None
        self._smtp = smtp
        stage = STARTTLS
        try:
            if s.security == STARTTLS:
                smtp.ehlo()
                smtp.starttls(context=context)
                smtp.ehlo()
            stage = "login"
            if s.user:
                smtp.login(s.user, self._password())
        except smtplib.SMTPNotSupportedError:
            self.close()
            if stage == STARTTLS:
                raise MailError(f"SMTP 服务器 {self.where} 不支持 STARTTLS 加密；"
                                "请改用 ssl（端口 465），或确认服务器地址和端口") from None
            raise MailError(f"SMTP 服务器 {self.where} 不支持登录（AUTH）；"
                            "如果是本机转发服务器，请不要设置用户名") from None
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise MailError(f"SMTP 登录失败（{exc.smtp_code} {_text(exc.smtp_error)}）：请检查用户名和密码；"
                            "QQ、163 等邮箱需在网页设置中开启 SMTP 服务，并使用“授权码”代替登录密码") from None
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise MailError(self._untrusted(exc)) from None
        except ssl.SSLError as exc:
            self.close()
            raise MailError(f"与 SMTP 服务器 {self.where} 建立 STARTTLS 加密失败（{exc.reason or exc}）。"
                            "端口 465 一般用 ssl，端口 587 一般用 starttls") from None
        except MailError:
            self.close()
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise MailError(f"与 SMTP 服务器 {self.where} 建立会话失败：{_describe(exc)}") from None

    def _untrusted(self, exc: ssl.SSLCertVerificationError) -> str:
        return (f"SMTP 服务器 {self.where} 的证书无法验证（{exc.verify_message or exc.reason}）："
                "请确认服务器地址与证书上的域名一致；内网服务器使用自建证书的，"
                "请用 --smtp-cafile（或配置文件中的 cafile）指定其 CA 证书")

    def _password(self) -> str:
        if self.settings.password:
            return self.settings.password
        if self.password_prompt is not None:
            password = self.password_prompt()
            if password:
                self.settings = self.settings.with_password(password)
                return password
        raise MailError(f"未提供 SMTP 密码：请设置环境变量 {PASSWORD_ENV}，或在终端中运行以便按提示输入")

    def send(self, from_addr: str, to: list[str], data: bytes) -> dict[str, str]:
        """Sends ``data``; returns the recipients refused while others were accepted
        (address -> reason).  Raises Refused or ConnectionLost."""
        self.ensure_connected()
        assert self._smtp is not None
        try:
            refused = self._smtp.sendmail(from_addr, to, data)
        except smtplib.SMTPRecipientsRefused as exc:
            reasons = [(code, f"{addr}：{code} {_text(msg)}") for addr, (code, msg) in exc.recipients.items()]
            detail = "；".join(r for _c, r in reasons)
            if any(c == 421 for c, _r in reasons):  # smtplib has closed the connection
                self._drop()
                raise ConnectionLost(f"SMTP 服务器 {self.where} 结束了会话（{detail}）") from None
            raise Refused(detail, permanent=any(c >= 500 for c, _r in reasons)) from None
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code < 500:  # 421 / 45x: busy, or a sending-rate limit
                self._drop()
                raise ConnectionLost(f"SMTP 服务器 {self.where} 暂时不接收邮件（{exc.smtp_code} "
                                     f"{_text(exc.smtp_error)}），可能是发送频率限制，请稍后重新运行") from None
            raise MailError(f"SMTP 服务器拒绝了发件地址 {exc.sender}（{exc.smtp_code} {_text(exc.smtp_error)}）："
                            "请确认发件地址与登录账号一致") from None
        except smtplib.SMTPDataError as exc:
            if exc.smtp_code == 421:
                self._drop()
                raise ConnectionLost(f"SMTP 服务器 {self.where} 结束了会话"
                                     f"（{exc.smtp_code} {_text(exc.smtp_error)}）") from None
            raise Refused(f"服务器拒收邮件内容：{exc.smtp_code} {_text(exc.smtp_error)}",
                          permanent=exc.smtp_code >= 500) from None
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise ConnectionLost(f"与 SMTP 服务器 {self.where} 的连接中断（{_describe(exc)}）") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise ConnectionLost(f"与 SMTP 服务器 {self.where} 的连接中断（{_describe(exc)}）") from None
        return {addr: f"{code} {_text(msg)}" for addr, (code, msg) in refused.items()}

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self._drop()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "服务器断开了连接"
    if isinstance(exc, ConnectionResetError):
        return "连接被对方重置"
    if isinstance(exc, BrokenPipeError):
        return "连接已被对方关闭"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "等待服务器响应超时"
    return _text(exc) or type(exc).__name__


