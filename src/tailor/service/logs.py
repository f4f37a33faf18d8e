"""Structured logs: one JSON object per line, and one line per request.

A request line holds ts, method, route (the template, so no ids), status, duration_ms and the id
of the API key (never the key). A user id from the path appears only as `user`, an HMAC-SHA256
under a secret drawn when the app starts: lines of one process can be joined per user, but the
id cannot be read back, nor guessed from a list of likely ids.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

ACCESS_LOGGER = "tailor.access"
USER_HASH_HEX = 16


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: ts, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_json_logging(level: int = logging.INFO) -> None:
    """Send every log record to stderr as JSON (for `tailor serve`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("tailor").setLevel(level)


class RequestLog:
    """Writes the one line per request to the `tailor.access` logger at INFO."""

    def __init__(self) -> None:
        self.logger = logging.getLogger(ACCESS_LOGGER)
        self._secret = secrets.token_bytes(32)

    def user_hash(self, user_id: str) -> str:
        return hmac.new(self._secret, user_id.encode(), hashlib.sha256).hexdigest()[:USER_HASH_HEX]

    def write(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        key_id: str | None,
        path_params: dict[str, Any],
    ) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "key_id": key_id,
        }
        if "user_id" in path_params:
            fields["user"] = self.user_hash(str(path_params["user_id"]))
        self.logger.info("request", extra={"fields": fields})
