#!/usr/bin/env python3
"""A DuckDB stand-in for Athena, for tests that run functions/canonical-merge's
job logic (its real SqlEngine calls) over a local lake: one statement per JSON
line on stdin ({"sql": ...}), one answer per line on stdout ({"rows": [[text]]}
or {"error": ...}), rows rendered as text as GetQueryResults does.

The Iceberg tables the job writes are materialized as DuckDB tables at a given
snapshot (--materialize events_canonical=<id>, hot_viewers_hour=<id>, ...) with
naive UTC timestamps, as Athena's Iceberg `timestamp` columns; the job's
Iceberg DDL (CREATE TABLE IF NOT EXISTS ... PARTITIONED BY ... TBLPROPERTIES)
is Athena-only and answered as a no-op for a materialized table. Everything
else (SELECT, MERGE) is the job's SQL transpiled Trino -> DuckDB.

  athena_twin.py --lake-dir DIR --materialize events_canonical=123 ...
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import canonical_catalog as cc  # noqa: E402
import hot_tier as ht  # noqa: E402
import lake_query as lq  # noqa: E402

CREATE = re.compile(r"^CREATE TABLE IF NOT EXISTS playback\.(\w+)", re.I)


def strip_comments(sql: str) -> str:
    return "\n".join(l for l in sql.splitlines() if not l.lstrip().startswith("--")).strip()


def materialize(con, catalog, table: str, snapshot: int) -> None:
    t = cc.load_table(catalog, create=False) if table == cc.TABLE else \
        ht.load_rollup(catalog, None, "", table, create=False)
    if t is None or t.snapshot_by_id(snapshot) is None:
        raise SystemExit(f"athena_twin: {table} has no snapshot {snapshot}")
    scan = f"iceberg_scan('{t.metadata_location}', snapshot_from_id = {snapshot})"
    cols = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    select = ", ".join(f"CAST({c[0]} AS TIMESTAMP) AS {c[0]}" if c[1].startswith("TIMESTAMP") else c[0]
                       for c in cols)
    con.execute(f"CREATE TABLE playback.{table} AS SELECT {select} FROM {scan}")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake-dir", required=True)
    ap.add_argument("--materialize", action="append", default=[], metavar="TABLE=SNAPSHOT")
    args = ap.parse_args(argv)
    defaults = lq.lake_defaults()
    con = lq.connect(None)
    lq.create_views(con, str(Path(args.lake_dir).resolve()), defaults["prefix"], defaults["ledger_prefix"])
    lq.load_extension(con, "avro")
    lq.load_extension(con, "iceberg")
    catalog = cc.open_catalog(args.lake_dir, defaults["bucket"], None, create=False)
    tables = set()
    for m in args.materialize:
        table, _, snap = m.partition("=")
        materialize(con, catalog, table, int(snap))
        tables.add(table)
    for line in sys.stdin:
        sql = strip_comments(json.loads(line)["sql"])
        try:
            created = CREATE.match(sql)
            if created:
                if created.group(1) not in tables:
                    raise RuntimeError(f"Iceberg DDL for {created.group(1)}: materialize it first")
                answer = {"rows": []}
            else:
                rel = con.execute(lq.transpile(sql)[-1])
                rows = rel.fetchall() if rel.description else []
                answer = {"rows": [[lq.as_text(v) for v in r] for r in rows]}
        except Exception as e:  # the job sees a failed statement, as from Athena
            answer = {"error": " ".join(str(e).split())[:500]}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
