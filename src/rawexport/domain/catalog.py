"""The event catalogue: every exportable table, its report columns and their stored types.

This module is the single source of truth shared by the event store (DDL, loading), the
request validation (which ids exist) and the export engine (which columns, in which order).
Column names are the published report column names, used verbatim as ClickHouse column names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BASIC_EVENTS",
    "CURRENCY_TEXT_COLUMNS",
    "CUSTOM_TABLE",
    "SBS_PAYMENTS",
    "SBS_PAYMENT_TYPES",
    "STANDARD_EVENTS",
    "USERS",
    "USER_DEFAULTS",
    "Column",
    "Kind",
    "Table",
    "standard_event",
]


class Kind(StrEnum):
    """How a column is stored, loaded and validated."""

    INT = "Int64"
    FLOAT = "Float64"
    BOOL = "Bool"
    STRING = "String"
    CURRENCY_MAP = "Map(String, Float64)"  # {currency name: amount}
    PARAM_MAP = "Map(String, String)"  # custom event parameters, values as their JSON text

    @property
    def clickhouse_type(self) -> str:
        if self in (Kind.CURRENCY_MAP, Kind.PARAM_MAP):
            return self.value
        return f"Nullable({self.value})"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind


@dataclass(frozen=True)
class Table:
    """One exportable event table.

    `columns` are the report columns in report order. `time_column` names the column that
    carries the event time in the report (`time`, or `date` for payments), or None when the
    report has no time column (`uu`, `rg`); the store always keeps the time in `time`.
    `extra` are stored columns that are not report columns of their own (currency maps that
    become several columns or text, custom parameters).
    """

    id: str
    table: str
    columns: tuple[Column, ...]
    time_column: str | None = "time"
    extra: tuple[Column, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column | None:
        for c in self.columns + self.extra:
            if c.name == name:
                return c
        return None


_I, _F, _B, _S, _M = Kind.INT, Kind.FLOAT, Kind.BOOL, Kind.STRING, Kind.CURRENCY_MAP


def _cols(*pairs: tuple[str, Kind]) -> tuple[Column, ...]:
    return tuple(Column(n, k) for n, k in pairs)


_ID = ("devtodev ID", _I)
_TIME = ("time", _I)
_DATE = ("date", _I)
_LEVEL = ("level", _I)
_TESTER = ("isTester", _B)
_CHEAT = ("cheat", _B)
_INSTALL = ("install_date", _I)

USERS = Table(
    "users",
    "users",
    _cols(
        _ID,
        ("Main ID", _S),
        ("Created", _I),
        ("Paying", _B),
        ("Cheater", _B),
        ("Tester", _B),
        ("Level", _I),
        ("AppVersion", _S),
        ("Language", _S),
        ("Country", _S),
        ("Device manufacturer", _S),
        ("Device name", _S),
        ("Crossplatform User ID", _S),
        ("Channel", _S),
        ("InstallSource", _S),
        ("User agent", _S),
        ("Screen resolution", _S),
        ("OS version", _S),
        ("IDFV", _S),
        ("IDFA", _S),
        ("OPEN_UDID", _S),
        ("username", _S),
        ("useremail", _S),
        ("userphoto", _S),
        ("userphone", _S),
        ("AdCampaign", _S),
        ("Time zone offset", _I),
        ("OsVersion", _S),
        ("segments", _S),
        ("Agency", _S),
        ("Keyword", _S),
        ("Placement", _S),
        ("Site", _S),
        ("Ad group", _S),
        ("Ad", _S),
    ),
    time_column=None,
)

_CURRENCY_TEXT = ("spent", "earned", "balance", "bought")

STANDARD_EVENTS: dict[str, Table] = {
    t.id: t
    for t in (
        Table(
            "gs",
            "ev_gs",
            _cols(
                _ID, _TIME, ("count", _I), ("avg_duration", _F), _TESTER, _CHEAT, _LEVEL, _INSTALL
            ),
        ),
        Table(
            "ip",
            "ev_ip",
            _cols(
                _ID,
                _TIME,
                _LEVEL,
                ("item_type", _S),
                ("item", _S),
                ("count", _I),
                _CHEAT,
                _TESTER,
                _INSTALL,
            ),
            extra=_cols(("currencies", _M)),
        ),
        Table("rg", "ev_rg", _cols(_ID, _INSTALL), time_column=None),
        Table(
            "lu",
            "ev_lu",
            _cols(
                _ID, _TIME, _LEVEL, _TESTER, _CHEAT, _INSTALL, *((n, _M) for n in _CURRENCY_TEXT)
            ),
        ),
        Table("uu", "ev_uu", _cols(_ID, ("logged ip", _S), ("os_version", _S)), time_column=None),
        Table(
            "rp",
            "ev_rp",
            _cols(
                _ID,
                _DATE,
                _LEVEL,
                ("transaction_id", _S),
                ("transaction_name", _S),
                ("amount_in_usd", _F),
                ("status", _B),
                _INSTALL,
                _TESTER,
                _CHEAT,
            ),
            time_column="date",
        ),
        Table(
            "pe",
            "ev_pe",
            _cols(
                _ID,
                _TIME,
                _LEVEL,
                ("location", _S),
                ("success", _B),
                ("prev_location", _S),
                ("duration", _F),
                ("difficulty", _F),
                _TESTER,
                _CHEAT,
                _INSTALL,
                ("spent", _M),
                ("earned", _M),
            ),
        ),
        Table("sc", "ev_sc", _cols(_ID, _TIME, _LEVEL, ("social", _S), _TESTER, _CHEAT, _INSTALL)),
        Table(
            "sp",
            "ev_sp",
            _cols(_ID, _TIME, _LEVEL, ("social", _S), ("reason", _S), _TESTER, _CHEAT, _INSTALL),
        ),
        Table(
            "sbs",
            "ev_sbs",
            _cols(
                _ID,
                _DATE,
                _LEVEL,
                ("event_type", _S),
                ("transaction_id", _S),
                ("original_transaction_id", _S),
                ("transaction_name", _S),
                ("amount_in_usd", _F),
                ("is_trial", _B),
                ("expires_date", _I),
                _INSTALL,
                _TESTER,
                _CHEAT,
            ),
            time_column="date",
        ),
        Table("tr", "ev_tr", _cols(_ID, _TIME, _LEVEL, ("step", _I), _TESTER, _CHEAT, _INSTALL)),
        Table(
            "adrv",
            "ev_adrv",
            _cols(
                _ID,
                _TIME,
                _LEVEL,
                ("source", _S),
                ("ad_network", _S),
                ("ad_unit", _S),
                ("placement", _S),
                ("revenue_in_usd", _F),
                _TESTER,
                _CHEAT,
                _INSTALL,
            ),
        ),
        Table("ud", "ev_ud", _cols(_ID, _TIME, ("udid_type", _S), ("udid", _S))),
    )
}
"""The thirteen standard events of `@basic_events`, keyed by event id."""

BASIC_EVENTS: tuple[str, ...] = tuple(STANDARD_EVENTS)

SBS_PAYMENTS = Table(
    "sbs_payments",
    "ev_sbs",
    _cols(
        _ID,
        _DATE,
        _LEVEL,
        ("transaction_id", _S),
        ("transaction_name", _S),
        ("amount_in_usd", _F),
        _INSTALL,
        _TESTER,
        _CHEAT,
    ),
    time_column="date",
)
"""A view on `sbs`: only the events that carry revenue."""

SBS_PAYMENT_TYPES: tuple[str, ...] = ("purchase", "renewal", "refund")

CUSTOM_TABLE = Table(
    "custom",
    "ev_custom",
    _cols(_ID, _TIME, _LEVEL, _TESTER, _CHEAT, _INSTALL),
    extra=_cols(("event", _S), ("params", Kind.PARAM_MAP)),
)
"""All custom events of all apps; `event` holds the name, `params` the parameters."""

USER_DEFAULTS: dict[str, str] = {
    "level": "Level",
    "isTester": "Tester",
    "cheat": "Cheater",
    "install_date": "Created",
}
"""Event columns filled from the user's card at loading time when an event lacks them."""

CURRENCY_TEXT_COLUMNS = _CURRENCY_TEXT


def standard_event(event_id: str) -> Table | None:
    """The table of a standard event id (including `sbs_payments`), or None for a custom name."""
    if event_id == SBS_PAYMENTS.id:
        return SBS_PAYMENTS
    return STANDARD_EVENTS.get(event_id)
