"""The client and `pull` must work with the base install: httpx, click and rich only."""

from __future__ import annotations

import subprocess
import sys

SERVER_AND_EXTRAS = {
    "chdb", "fastapi", "isal", "orjson", "pandas", "polars", "psycopg", "pyarrow", "sqlalchemy",
    "starlette", "uvicorn",
}  # fmt: skip


def test_importing_the_client_and_pull_loads_no_optional_library() -> None:
    code = (
        "import sys, rawexport.client, rawexport.cli.pull; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert SERVER_AND_EXTRAS.isdisjoint(loaded)
    assert {"httpx", "click", "rich"} <= set(loaded)
