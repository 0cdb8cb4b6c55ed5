"""The commands `rawexport demo` prints: shell text that works when pasted as it is.

The analyst's way comes first (`rawexport pull` sets the job, waits, downloads, extracts), then
the same three published steps with curl. The curl sequence polls until the job is complete
and stops at the first error with the server's message: downloading while the job still runs
would save the error envelope as `report.zip` and report success.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rawexport.client.timeparse import to_unix
from rawexport.domain.paths import API_PREFIX

__all__ = ["DemoAccess", "example_commands", "rawexport_command"]

# Prints one field of the JSON answer on stdin, or the answer's error, and then fails; python3
# because `make demo` needs it anyway, where jq may be missing.
_ANSWER = """\
answer() { python3 -c 'import json, sys
try: a = json.load(sys.stdin)
except ValueError: sys.exit("no JSON answer from the server")
if "errors" in a: sys.exit("error %(code)s: %(msg)s" % a["errors"][0])
for key in sys.argv[1:]: a = a[key]
print(a)' "$@"; }"""

_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class DemoAccess:
    base_url: str
    """The server root, e.g. http://127.0.0.1:8000."""
    token: str
    app_id: str
    end_date: int
    """UNIX seconds: the demo's events all lie before it."""


def rawexport_command() -> str:
    """How to run this very `rawexport` from the current directory: `.venv/bin/rawexport` after
    `make demo`, where the virtual environment is not activated."""
    script = Path(sys.executable).with_name("rawexport")
    if not script.exists():
        return "rawexport"
    try:
        return str(script.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(script.absolute())


def example_commands(access: DemoAccess, rawexport: str) -> str:
    """The last week of the demo's data: with `rawexport pull`, then with curl."""
    last_day = datetime.fromtimestamp(access.end_date, UTC).date()
    start, end = last_day - _WEEK + timedelta(days=1), last_day + timedelta(days=1)
    token, api = shlex.quote(access.token), shlex.quote(f"{access.base_url}{API_PREFIX}")
    body = json.dumps(
        {
            "app_id": access.app_id,
            "start_date": to_unix(start),
            "end_date": to_unix(end),
            "events": ["rp", "lu", {"name": "levelComplete", "filters": {"difficulty": {"gt": 5}}}],
        }
    )
    return f"""\
# 1. A week of payments and level-ups into report/: sets the job, waits, downloads, extracts.
RAWEXPORT_TOKEN={token} {rawexport} pull --url {access.base_url} --app {access.app_id} \\
  --from {start} --to {end} --event rp --event lu -o report/

# 2. The same with curl: set a job, poll it until it is complete, download the ZIP.
API={api} TOKEN={token}
{_ANSWER}
JOB=$(curl -sS --fail-with-body "$API/setjob?user_token=$TOKEN" \\
  -d {shlex.quote(body)} | answer data) &&
while STATUS=$(curl -sS --fail-with-body "$API/getprogress?user_token=$TOKEN&job_id=$JOB" \\
  | answer data status) && [ "$STATUS" != complete ]; do echo "$STATUS"; sleep 1; done &&
[ "$STATUS" = complete ] &&
curl -sS --fail-with-body -o report.zip "$API/download/?user_token=$TOKEN&job_id=$JOB" &&
python3 -m zipfile -l report.zip
"""
