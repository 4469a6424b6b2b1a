"""iCalendar text (RFC 5545) of a user's actions' due dates, written by hand.

The rules that matter: lines end with CRLF; a content line longer than 75 octets is folded (CRLF and
one space), never inside a UTF-8 character; in TEXT values a backslash, semicolon and comma are
escaped with a backslash and a line break is written `\\n`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from webapp.db import utcnow
from webapp.models import Action
from webapp.models.plan import OPEN_STATUSES
from webapp.plan.services import title_of

CRLF = "\r\n"
LIMIT = 75  # octets per line, CRLF not counted


def escape(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """One content line folded at 75 octets (§3.1); continuation lines start with one space, which
    counts toward their 75."""
    out: list[str] = []
    current = ""
    size = 0
    limit = LIMIT
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(current)
            current, size, limit = " ", 1, LIMIT
        current += ch
        size += n
    out.append(current)
    return CRLF.join(out)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(actions: Iterable[Action], firm_names: Mapping[int, str], *, host: str) -> str:
    """A calendar with an all-day event on the due date of each open action."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//QReady//Improvement plan//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:" + escape("QReady 质评通"),
    ]
    now = _stamp(utcnow())
    for a in actions:
        if a.due_on is None or a.status not in OPEN_STATUSES:
            continue
        firm = firm_names.get(a.firm_id, "")
        title = title_of(a)
        summary = f"{title} · {firm}" if firm else title
        lines += [
            "BEGIN:VEVENT",
            f"UID:action-{a.id}@{host.split(':')[0] or 'qready'}",
            f"DTSTAMP:{now}",
            f"LAST-MODIFIED:{_stamp(a.updated_at)}",
            f"DTSTART;VALUE=DATE:{a.due_on.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(a.due_on + dt.timedelta(days=1)).strftime('%Y%m%d')}",
            "SUMMARY:" + escape(summary),
        ]
        if a.notes:
            lines.append("DESCRIPTION:" + escape(a.notes))
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def unfold(text: str) -> list[str]:
    """The content lines of a calendar (the reverse of `fold`), for tests and readers."""
    return text.replace(CRLF + " ", "").replace(CRLF + "\t", "").split(CRLF)[:-1]
