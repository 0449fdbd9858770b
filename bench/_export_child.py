"""One export for bench/workspace, in a process of its own so its peak memory is its own: the records behind
cases.received in a scope and span, written by ``ours`` (streamed from the database through the XLSX writer),
``pandas`` (DataFrame.to_excel, openpyxl engine) or ``openpyxl`` (write-only workbook); for the last two the same
typed, masked rows are fetched first and only the writing is timed. Prints JSON: seconds, rows, its peak resident memory
before writing began and at the end (MB). It imports only what an export needs."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, date, datetime, timedelta

from dashboard.workspace.catalog import measure_info
from dashboard.workspace.export import header_text, xlsx_stream
from dashboard.workspace.masking import masker
from dashboard.workspace.periods import local_midnight
from dashboard.workspace.records import converter, records_of
from etl.warehouse.db import make_engine

MEASURE = "cases.received"


def peak_mb() -> float:
    """This process's peak resident memory since it started (VmHWM): getrusage's maxrss would also count the
    benchmark's memory, which the child inherits when it is forked, before it runs this program."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def main(mode: str, url: str, scope: str, first: str, last: str, path: str) -> None:
    engine = make_engine(url)
    now = datetime.now(UTC)
    start, end = local_midnight(date.fromisoformat(first)), local_midnight(date.fromisoformat(last) + timedelta(days=1))
    view, statement, _ = records_of(measure_info(MEASURE), scope, start, end, {}, "", True, now)
    convert = converter(view, masker("masked", ()), now)
    count = 0

    def rows(connection):
        nonlocal count
        for row in connection.execution_options(stream_results=True, yield_per=2000).execute(statement):
            count += 1
            yield convert(row)

    if mode in ("pandas", "openpyxl"):
        import openpyxl  # noqa: F401 - imported before the baseline is taken, like pandas below
        import pandas as pd
    with engine.connect() as connection:
        if mode == "ours":
            before = peak_mb()
            started = time.perf_counter()
            with open(path, "wb") as handle:
                for piece in xlsx_stream("明细", "基准 · 明细", view.columns, rows(connection)):
                    handle.write(piece)
        else:
            fetched = list(rows(connection))
            headers = [header_text(column) for column in view.columns]
            before = peak_mb()
            started = time.perf_counter()
            if mode == "pandas":
                pd.DataFrame(fetched, columns=headers).to_excel(path, engine="openpyxl", index=False)
            else:
                book = openpyxl.Workbook(write_only=True)
                sheet = book.create_sheet("明细")
                sheet.append(headers)
                for row in fetched:
                    sheet.append(row)
                book.save(path)
        elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "rows": count, "before_mb": before, "peak_mb": peak_mb()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
