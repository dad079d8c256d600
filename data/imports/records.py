"""One record through a ledger's own rules: how an edit form (a vacant room on 选址分析) is checked.

The record's values — codes or labels, Python numbers, dates and booleans, as a form holds them — become the text
cells a file row would hold (data.imports.reading's `_cell_text`), and go through the ledger's validation
(data.imports.validation.validate: every column rule, reference, coordinate check and ledger hook) and the rules
against the record they change (`against_stored`). So a value refused on the form is refused on import with the same
Chinese problem, and a value accepted is cleaned the same way (and written by data.imports.writing.store).
"""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy.engine import Connection

from data.imports.ledgers import Ledger
from data.imports.reading import _cell_text
from data.imports.validation import Context, against_stored, validate
from data.imports.writing import _plain

RECORD_ROW = 2   # the row a single record stands in (a file's first data row)


def cells(ledger: Ledger, values: dict) -> pd.DataFrame:
    """The record as one row of text cells under the ledger's headers (what the file reader would give)."""
    return pd.DataFrame({c.header: [_cell_text(values.get(c.field))] for c in ledger.columns}, index=[RECORD_ROW],
                        dtype=object)


def validate_record(conn: Connection, ledger: Ledger, values: dict, *, stored: dict | None = None,
                    today: date | None = None) -> tuple[dict, list[tuple[str, str]]]:
    """Check one record (field → value) by exactly the rules of a file row of `ledger`; `stored` is the record it
    changes (None: a new record). Returns (the cleaned values of the ledger's fields, [(column header, problem), …]).

    Who may write the record is the caller's to check (data.security.access.require_write), as for any write."""
    ctx = Context(conn=conn, ledger=ledger, principal=None, gcj02=False, today=today or date.today())
    clean = validate(ctx, cells(ledger, values))
    stored_status = pd.Series([None if stored is None else stored.get("status")], index=clean.index, dtype=object)
    against_stored(ctx, clean, stored_status, pd.Series(stored is not None, index=clean.index))
    found = ctx.problems.frame("", "", ledger.headers)
    row = clean.iloc[0]
    out = {f: _plain(row[f]) if f in row.index else None for f in ledger.fields}
    return out, [(str(c), str(p)) for c, p in zip(found["column"], found["problem"])]
