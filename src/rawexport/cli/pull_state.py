"""The state file of `rawexport pull --incremental`: the last complete job a pipeline received.

The next run continues from that job (`continue_from`), so every stored row arrives once. The
file is replaced whole (a temporary file, then `os.replace`) and only once a run's report was
downloaded, verified and extracted: a run that stops before then leaves the previous state,
and the run after it asks for those rows again.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["PullState", "StateFileError", "read_state", "write_state"]


class StateFileError(ValueError):
    """The state file exists but is not one this command wrote."""


@dataclass(frozen=True)
class PullState:
    app_id: str
    job_id: str
    """The last complete job whose report was received: the next run's `continue_from`."""
    snapshot: str | None
    """That job's snapshot, as the server told it (for people reading the file)."""


def read_state(path: Path) -> PullState | None:
    """The recorded state, or None before the first run (no file)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StateFileError(f"{path}: not a readable state file ({exc})") from None
    if not (
        isinstance(raw, dict)
        and isinstance(raw.get("app_id"), str)
        and isinstance(raw.get("job_id"), str)
        and isinstance(raw.get("snapshot"), str | None)
    ):
        raise StateFileError(f"{path}: not a state file of rawexport pull --incremental")
    return PullState(raw["app_id"], raw["job_id"], raw["snapshot"])


def write_state(path: Path, state: PullState) -> None:
    """Replace the state file at once: a reader (or a crash) sees the old state or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(state), out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
