"""INSERT ... ON CONFLICT for the two supported databases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, case
from sqlalchemy.dialects import postgresql, sqlite


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    update: Sequence[str] | None = None,
    keep_greatest: Sequence[str] = (),
) -> None:
    """Insert rows; on a key conflict update the `update` columns (all others by default).

    With `update=()` an existing row is left as it is (insert-if-missing). Columns in
    `keep_greatest` only ever move forward (a late, older row cannot rewind a timestamp).
    """
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:  # pragma: no cover - make_engine refuses other databases
        raise NotImplementedError(dialect)
    columns = list(rows[0]) if update is None else list(update)
    columns = [c for c in columns if c not in key]
    if columns:
        values: dict[str, Any] = {c: statement.excluded[c] for c in columns}
        for column in keep_greatest:
            values[column] = case(
                (table.c[column].is_(None), statement.excluded[column]),
                (statement.excluded[column] > table.c[column], statement.excluded[column]),
                else_=table.c[column],
            )
        statement = statement.on_conflict_do_update(index_elements=list(key), set_=values)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    connection.execute(statement, list(rows))
