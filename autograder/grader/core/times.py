"""Times as the records keep them: ISO 8601 text, aware, or naive for a zip entry's local time without a zone."""

from __future__ import annotations

from datetime import datetime, tzinfo


def as_instant(text: str, zone: tzinfo) -> datetime:
    """An aware datetime from a record's ISO 8601 time; a naive one (a zip entry's) is read in zone."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
