"""Validating a large JSON-lines file of events on every core, a byte range per worker process.

Workers come from a fork server, not from forking this process: the store running in it (an
embedded ClickHouse) has threads, which a forked child would inherit in whatever state they
were. The fork server is started once per process (about half a second) with this module and the
main module loaded, so a worker starts in milliseconds; as with any multiprocessing, a script
that loads files must keep its work under `if __name__ == "__main__":`.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rawexport.store.loading.lines import MAX_REPORTED_ERRORS, Validated, validate_lines

__all__ = ["line_ranges", "validate_in_parallel"]


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
    errors carry line numbers of the whole file.
    """
    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", validate_lines.__module__])
    found = Validated()
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [
            pool.submit(validate_lines, str(path), start, end, str(workdir), f"{part}-")
            for part, (start, end) in enumerate(line_ranges(path, workers))
        ]
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
