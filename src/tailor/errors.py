"""The error hierarchy. Each error is named for its condition and carries a message a person can act on.

The service maps these to HTTP statuses in one handler (see `tailor.service`), using `status_code`.
"""

from __future__ import annotations


class TailorError(Exception):
    """Base of every error Tailor raises on purpose."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(TailorError):
    """Settings are invalid: an unknown key, a wrong type or an impossible value."""

    status_code = 500


class InvalidInputError(TailorError):
    """A request or a row broke the schema; `field` names the offending field."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(TailorError):
    status_code = 404


class UnknownUserError(NotFoundError):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"unknown user: {user_id!r}")
        self.user_id = user_id


class UnknownItemError(NotFoundError):
    def __init__(self, item_id: str) -> None:
        super().__init__(f"unknown item: {item_id!r}")
        self.item_id = item_id


class UnknownCategoryError(NotFoundError):
    def __init__(self, category: str) -> None:
        super().__init__(f"unknown category: {category!r} (no item in the catalogue has it)")
        self.category = category


class NotFittedError(TailorError):
    """A model or engine was asked to predict before it was fitted or loaded."""

    status_code = 503


class UnsupportedError(TailorError):
    """The operation is not available for this model or configuration."""

    status_code = 400


class StoreError(TailorError):
    """The store failed; nothing of the failing operation was written."""

    status_code = 503


class ArtifactError(TailorError):
    """An artifact is missing, incomplete or of an unknown format."""

    status_code = 503


class CacheError(TailorError):
    """The shared cache (Redis, see `cache.redis_url`) failed or cannot be reached."""

    status_code = 503
