"""Times as the records keep them: ISO 8601 text, aware, or naive for a zip entry's local time without a zone."""

from datetime import datetime


def as_instant(text, zone):
    """An aware datetime from a record's ISO 8601 time; a naive one (a zip entry's) is read in zone."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
