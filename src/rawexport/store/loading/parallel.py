"""Validating a large JSON-lines file of events on every core, a byte range per worker process.

Workers come from a fork server, not from forking this process: the store running in it (an
embedded ClickHouse) has threads, which a forked child would inherit in whatever state they
were. The fork server is started once per process (about half a second) with this module and the
main module loaded, so a worker starts in milliseconds; as with any multiprocessing, a script
that loads files must keep its work under `if __name__ == "__main__":`.

A loader killed outright (SIGKILL) leaves no worker validating on for nothing: see `_end_with`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rawexport.store.leftovers import process_alive
from rawexport.store.loading.lines import MAX_REPORTED_ERRORS, Validated, validate_lines

__all__ = ["line_ranges", "validate_in_parallel"]

log = logging.getLogger(__name__)

_WATCH_S = 0.5
"""How often a worker looks whether the loading process is still there."""


def _end_with(loader_pid: int) -> None:
    """A worker's initializer: end the worker once the loading process has ended.

    The worker's parent is the fork server, not the loader, so the parent-death signal
    (prctl) would not reach it; and the fork server ends only after its workers, which hold its
    lifeline pipe. So each worker watches the loader, and a loader killed outright takes its
    workers, then its fork server, with it within a second.
    """

    def watch() -> None:
        while process_alive(loader_pid):
            time.sleep(_WATCH_S)
        os._exit(1)

    threading.Thread(target=watch, name="rawexport-watch-loader", daemon=True).start()


def line_ranges(path: Path, parts: int) -> list[tuple[int, int]]:
    """About `parts` byte ranges covering `path`, each starting at a line start."""
    size = path.stat().st_size
    starts = [0]
    with path.open("rb") as source:
        for part in range(1, parts):
            source.seek(max(size * part // parts, starts[-1]))
            source.readline()  # to the end of the line the cut fell into
            if source.tell() >= size:
                break
            if source.tell() > starts[-1]:
                starts.append(source.tell())
    return list(zip(starts, [*starts[1:], size], strict=True))


def validate_in_parallel(path: Path, workdir: Path, full: Callable[[str, Path], None]) -> Validated:
    """Validate the events of `path` in worker processes, writing chunk files into `workdir`.

    Chunk files are handed to `full` a range at a time while no bad line has been found;
    errors carry line numbers of the whole file. When no worker can start, the file is
    validated in this process instead (slower, the same result).
    """
    try:
        return _on_workers(path, workdir, full)
    except _NoWorkers as failed:
        log.warning("validating %s in one process: %s", path.name, failed.__cause__)
        return validate_lines(str(path), 0, path.stat().st_size, str(workdir), "", full)


class _NoWorkers(Exception):
    """The worker processes could not be started; nothing was validated or staged yet."""


def _on_workers(path: Path, workdir: Path, full: Callable[[str, Path], None]) -> Validated:
    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", validate_lines.__module__])
    found = Validated()
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_end_with, initargs=(os.getpid(),)
    ) as pool:
        try:
            futures = [
                pool.submit(validate_lines, str(path), start, end, str(workdir), f"{part}-")
                for part, (start, end) in enumerate(line_ranges(path, workers))
            ]
        except OSError as error:
            # The fork server listens on a socket in TMPDIR, whose path may have at most 107
            # bytes: a deep TMPDIR (a CI runner's, say) leaves no worker able to start.
            pool.shutdown(cancel_futures=True)
            raise _NoWorkers from error
        for future in futures:
            part = future.result()
            found.errors += [(found.lines + line, message) for line, message in part.errors]
            found.lines += part.lines
            if len(found.errors) >= MAX_REPORTED_ERRORS:
                del found.errors[MAX_REPORTED_ERRORS:]
                pool.shutdown(cancel_futures=True)
                break
            if found.errors:
                continue  # the file is refused: nothing more to stage
            for table_id, chunk in part.chunks:
                full(table_id, Path(chunk))
            for event, rows in part.counts.items():
                found.counts[event] = found.counts.get(event, 0) + rows
    return found
