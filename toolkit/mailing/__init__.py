"""Email: each agency its template (`disclosure distribute`) and its feedback
(`disclosure mail`), over SMTP or into an outbox of .eml files, with a sent log that
makes reruns safe.

settings   SMTP settings from options, environment, TOML; password from env or prompt
messages   中文 subjects and bodies; attachments with Chinese names (RFC 2231 + 2047)
sentlog    sent_log.jsonl: one fsync'd line per attempt; what was already sent
transport  the SMTP conversation and its failures in 中文
sources    findings.json, the template batch, roster addresses
run        send_feedback / distribute_templates -> MailRun"""

from toolkit.mailing.run import MailRun, Outcome, distribute_templates, send_feedback
from toolkit.mailing.sentlog import LOG_NAME, SentLog
from toolkit.mailing.settings import (
           PASSWORD_ENV,
           SettingsError,
           SmtpSettings,
           load_settings,
)
from toolkit.mailing.transport import MailError

__all__ = ["LOG_NAME", "PASSWORD_ENV", "MailError", "MailRun", "Outcome", "SentLog", "SettingsError",
           "SmtpSettings", "distribute_templates", "load_settings", "send_feedback"]
