"""`db_now()`: the database's clock as UNIX seconds, for every time several machines share.

Claims, heartbeats, re-queues, quota windows and report lifetimes compare times written by
different machines; their own clocks may disagree by seconds, the database has one clock. So those
statements read the time inside the statement itself, and no Python clock reaches them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Double
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

__all__ = ["db_now"]


class db_now(FunctionElement[float]):
    """UNIX seconds (double precision) by the database's clock: when the statement began.

    One value for the whole statement on both databases, so `finished_at` and `expires_at` set by
    one UPDATE are exactly `ttl_s` apart.
    """

    type = Double()
    inherit_cache = True


@compiles(db_now, "postgresql")
def _postgresql(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    # statement_timestamp(), not now(): now() is frozen at the start of the transaction, and a
    # submission waits for its row locks inside the transaction before it reads the time.
    # Not clock_timestamp() either, which moves on between the rows and columns of one UPDATE.
    return "CAST(EXTRACT(EPOCH FROM statement_timestamp()) AS DOUBLE PRECISION)"


@compiles(db_now, "sqlite")
def _sqlite(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    # julianday('now') is fixed for one statement, to the millisecond; 2440587.5 is the Julian
    # day of 1970-01-01.
    return "((julianday('now') - 2440587.5) * 86400.0)"
