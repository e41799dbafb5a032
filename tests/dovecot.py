"""A real IMAP server for the tests: Dovecot (Debian's dovecot-imapd) as a child process
with a generated configuration in a temporary folder, listening on 127.0.0.1 on a free
port; messages are delivered by IMAP APPEND.  In CI a missing Dovecot fails the tests
(.ci/run installs it); elsewhere they are skipped."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest

USER, PASSWORD = "office@example.cn", "mima-123"


def dovecot_or_skip() -> str:
    exe = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI 上必须有 Dovecot（dovecot），.ci/run 应安装 dovecot-imapd")
        pytest.skip("dovecot not installed")
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    """``tls``: also listen for IMAPS (``ssl_port``) and offer STARTTLS, with a
    self-signed certificate for 127.0.0.1 (``cafile``)."""

    def __init__(self, tls: bool = False):
        exe = dovecot_or_skip()
        self.dir = Path(tempfile.mkdtemp(prefix="dv"))  # short: unix socket paths are limited
        self.dir.chmod(0o755)
        self.port = free_port()
        self.ssl_port = free_port() if tls else 0
        self.cafile = self.dir / "cert.pem" if tls else None
        ssl_conf = "ssl = no"
        if tls:
            key = self.dir / "key.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", str(key), "-out", str(self.cafile)], check=True, capture_output=True)
            key.chmod(0o644)
            ssl_conf = f"ssl = yes\nssl_cert = <{self.cafile}\nssl_key = <{key}"
        home = self.dir / "home"
        home.mkdir()
        if os.geteuid() == 0:  # Dovecot refuses to run logins or mail as root
            mail_user = pwd.getpwnam("dovecot")
            users = ""
            os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
            uid, gid = mail_user.pw_uid, mail_user.pw_gid
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            users = (f"default_login_user = {me}\ndefault_internal_user = {me}\n"
                     f"default_internal_group = {me}\n")
            uid, gid = os.getuid(), os.getgid()
        (self.dir / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        conf = self.dir / "dovecot.conf"
        conf.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
{ssl_conf}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.ssl_port}
  }}
}}
service anvil {{
  chroot =
}}
""")
        self.proc = subprocess.Popen([exe, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited: " + self.proc.stderr.read().decode(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("dovecot did not start listening")

    def append(self, raw: bytes, when: datetime | None = None, folder: str = "INBOX") -> None:
        from imap_tools import MailBoxUnencrypted

        with MailBoxUnencrypted("127.0.0.1", self.port).login(USER, PASSWORD, initial_folder=None) as box:
            box.append(raw, folder, dt=when)

    def env(self) -> dict[str, str]:
        """The settings `disclosure collect` takes from the environment."""
        return {"DISCLOSURE_IMAP_HOST": "127.0.0.1", "DISCLOSURE_IMAP_PORT": str(self.port),
                "DISCLOSURE_IMAP_USER": USER, "DISCLOSURE_IMAP_PASSWORD": PASSWORD,
                "DISCLOSURE_IMAP_SECURITY": "plain"}

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
