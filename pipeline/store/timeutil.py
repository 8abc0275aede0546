from datetime import datetime, timezone


def now() -> str:
    """UTC, to the second, ISO 8601: every timestamp in the archive."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
