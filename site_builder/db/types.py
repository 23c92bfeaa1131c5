"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

MICROS = Decimal(1_000_000)
MICRO_QUANTUM = Decimal("0.000001")


def quantize_micros(value: Decimal) -> Decimal:
    """Round to the store's resolution: one millionth (of a US dollar, for prices)."""
    return value.quantize(MICRO_QUANTUM, rounding=ROUND_HALF_EVEN)


class Micros(TypeDecorator[Decimal]):
    """An exact decimal (a USD amount, an FX rate), stored as an integer number of millionths.

    SQLite has no decimal type (SQLAlchemy's Numeric stores floats there), so amounts are
    kept as integers on every database: exact, sortable and aggregatable in SQL alike.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"Micros columns take Decimal, not {type(value).__name__}")
        return int(quantize_micros(value) * MICROS)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return quantize_micros(Decimal(int(value)) / MICROS)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp; SQLite drops the offset, so it is restored on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store takes timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
