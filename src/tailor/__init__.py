"""Tailor: a self-hosted personalization engine for online shops."""

__version__ = "0.1.0"
