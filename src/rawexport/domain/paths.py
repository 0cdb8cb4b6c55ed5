"""Where the API lives on a server: the paths the server routes, the client calls and the
answers link to, written once."""

from __future__ import annotations

__all__ = ["API_PREFIX", "DOWNLOAD_PATH", "LOADING_PREFIX"]

API_PREFIX = "/api/v1/rawexport"
"""The published export API: `setjob`, `getprogress` and `download` live under it."""

DOWNLOAD_PATH = f"{API_PREFIX}/download/"
"""Where a report is downloaded; the published answers link to it with a trailing slash."""

LOADING_PREFIX = "/api/v1"
"""This project's own loading endpoints (`events`, `users`), beside the published API."""
