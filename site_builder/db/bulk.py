"""COPY on PostgreSQL that skips rows already present, paying for that only when needed.

COPY cannot skip conflicts itself. Rows go straight into the table inside a savepoint, which
is the common case (new rows) at COPY's full speed. If any row is already there, the
savepoint is rolled back and the rows go through a temporary staging table instead, moved
with INSERT ... SELECT ... ON CONFLICT DO NOTHING, so a re-sent row changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import errors
from sqlalchemy import Connection


def copy_new(
    connection: Connection, table: str, columns: Sequence[str], data: bytes, key: Sequence[str]
) -> bool:
    """COPY `data` (COPY text in `columns`) into `table`, skipping rows whose `key` exists.
    Returns whether it took the straight path (no row was present)."""
    if not data:
        return True
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        try:
            with (
                connection.begin_nested(),
                cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy,
            ):
                copy.write(data)
            return True
        except errors.UniqueViolation:
            pass
        staging = f"staging_{table}"
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" (LIKE "{table}") ON COMMIT DROP'
        )
        cursor.execute(f'TRUNCATE "{staging}"')
        with cursor.copy(f'COPY "{staging}" ({names}) FROM STDIN') as copy:
            copy.write(data)
        conflict = ", ".join(f'"{c}"' for c in key)
        cursor.execute(
            f'INSERT INTO "{table}" ({names}) SELECT {names} FROM "{staging}"'
            f" ON CONFLICT ({conflict}) DO NOTHING"
        )
        return False
    finally:
        cursor.close()
