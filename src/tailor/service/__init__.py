"""The HTTP service: `create_app(settings)` returns the FastAPI app (see `tailor.service.app`)."""

from tailor.service.app import create_app

__all__ = ["create_app"]
