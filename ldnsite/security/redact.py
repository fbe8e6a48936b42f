"""No email addresses in the application's logs.

Why at record creation: addresses reach log lines from many places (an SMTP
server's refusal quotes the recipient, a database error quotes its
parameters, a traceback quotes both), and /privacy promises logs do not
hold them. Every log record made in the process has its message, and the
text of any exception it carries, rewritten with each address replaced by
"<address>" before any handler sees it.
"""

from __future__ import annotations

import logging
import re
import traceback

ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+")
PLACEHOLDER = "<address>"
_installed = False


def redact(text: str) -> str:
    return ADDRESS.sub(PLACEHOLDER, text)


def install() -> None:
    """Wrap the process's log record factory once (create_app may run many times in one process)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the caller's bug; leave it to the handler
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    logging.setLogRecordFactory(factory)
