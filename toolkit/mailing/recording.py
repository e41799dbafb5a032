"""What the sends record in the ledger: each message as it goes (sent, refused, failed or
drafted), in its own transaction, like the sent log's line."""

from __future__ import annotations

from toolkit.mailing.messages import Outgoing
from toolkit.mailing.sentlog import REMINDER, TEMPLATE


def record_outgoing(ledger, out: Outgoing, result: str, message_id: str | None = None, *,
                    deadline: str | None = None, year: int | None = None) -> None:
    if ledger is None:
        return
    address = ", ".join(out.to)
    if out.kind == TEMPLATE:
        ledger.record_sent("templates_sent", agency=out.agency, address=address,
                           file_name=out.attachments[0].name if out.attachments else None,
                           sha256=out.sha256, year=year, deadline=deadline, message_id=message_id, result=result)
    elif out.kind == REMINDER:
        ledger.record_sent("reminders", agency=out.agency, address=address, owes=out.owes or "",
                           message_id=message_id, result=result)
    else:
        about = (out.key or "").removeprefix("return:") if (out.key or "").startswith("return:") else None
        ledger.record_sent("feedback", agency=out.agency, address=address, kind=out.kind, sha256=about,
                           message_id=message_id, result=result)
