"""The database's CHECK lists and the model's constants name the same states and kinds: adding one
in a migration or in db/store/models.py alone fails here. Read from the live, fully migrated schema
(a later migration may recreate a table or its CHECK), on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import sqlite3

import asyncpg
import pytest

from db.store import Store
from db.store.models import JOB_KINDS, JOB_STATES, WORKER_STATES

_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def _literals(text: str) -> set[str]:
    return {value.replace("''", "'") for value in _LITERAL.findall(text)}


def _sqlite_allowed(path: str, table: str, column: str) -> list[set[str]]:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
    assert row is not None, f"no table {table}"
    # SQLite keeps the CREATE TABLE text, ADD COLUMN clauses spliced in: `column IN ('a', 'b')`
    return [_literals(m) for m in re.findall(rf"\b{column}\s+IN\s*\(([^)]*)\)", row[0], re.IGNORECASE)]


async def _postgres_allowed(url: str, table: str, column: str) -> list[set[str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint "
            "WHERE conrelid = $1::regclass AND contype = 'c'",
            table,
        )
    finally:
        await conn.close()
    # PostgreSQL gives IN back as `(column = ANY (ARRAY['a'::text, 'b'::text]))`
    pattern = re.compile(rf"\b{column}\s*=\s*ANY\s*\(\s*ARRAY\[([^\]]*)\]")
    return [_literals(m) for row in rows for m in pattern.findall(row["def"])]


@pytest.mark.parametrize(
    ("table", "column", "constant"),
    [("jobs", "state", JOB_STATES), ("jobs", "kind", JOB_KINDS), ("workers", "state", WORKER_STATES)],
)
async def test_the_schema_allows_exactly_the_values_the_model_names(
    store: Store, backend: str, store_url: str, table: str, column: str, constant: tuple[str, ...]
) -> None:
    if backend == "sqlite":
        allowed = _sqlite_allowed(store_url, table, column)
    else:
        allowed = await _postgres_allowed(store_url, table, column)
    assert allowed == [set(constant)], (
        f"{table}.{column}: the database allows {allowed}, models say {constant}"
    )
