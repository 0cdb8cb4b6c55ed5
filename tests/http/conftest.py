"""The in-process service of tests/api, for the log tests here."""

from tests.api.conftest import start_service

__all__ = ["start_service"]
