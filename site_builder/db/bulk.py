"""Bulk inserts that skip rows already present: COPY on PostgreSQL, executemany on SQLite.

COPY cannot skip conflicts itself, so on PostgreSQL rows are copied into a temporary table
and moved with INSERT ... SELECT ... ON CONFLICT DO NOTHING: COPY's speed, and a re-sent
row changes nothing. The temporary table lives until the end of the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Connection, Table

from site_builder.db.upsert import upsert


def insert_new(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], key: Sequence[str]
) -> None:
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        upsert(connection, table, rows, key=key, update=())
        return
    columns = list(rows[0])
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    staging = f"staging_{table.name}"
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            f'CREATE TEMP TABLE IF NOT EXISTS "{staging}" (LIKE "{table.name}") ON COMMIT DROP'
        )
        cursor.execute(f'TRUNCATE "{staging}"')
        with cursor.copy(f'COPY "{staging}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [
                        Json(row[c]) if c in json_columns and row[c] is not None else row[c]
                        for c in columns
                    ]
                )
        conflict = ", ".join(f'"{c}"' for c in key)
        cursor.execute(
            f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM "{staging}"'
            f" ON CONFLICT ({conflict}) DO NOTHING"
        )
    finally:
        cursor.close()
