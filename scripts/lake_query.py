#!/usr/bin/env python3
"""Run Athena (Trino) SQL locally: DuckDB over the lake's Parquet.

The lake is read from the emulator's S3 (AWS_ENDPOINT_URL, else the server
`make emulator-up` started) or from a local directory (LAKE_DIR / --lake-dir).
Tables the Athena SQL names are views here:
  playback.events          read_parquet(<lake>/events/*/*/*.parquet), dt/hour from the path
  playback.royalty_ledger  read_parquet(<lake>/royalty/ledger/*/*.parquet), close_id from the path
  playback.events_canonical  the canonical Iceberg table (scripts/canonical.py writes it):
                           iceberg_scan of its current snapshot, or of --as-of SNAPSHOT_ID|TIMESTAMP,
                           or of Athena's time travel in the SQL: FOR VERSION AS OF <id> /
                           FOR TIMESTAMP AS OF TIMESTAMP '<UTC time>' (one per query)
  playback."events_canonical$snapshots"  snapshot_id, parent_id, committed_at, operation
                           (Athena's Iceberg metadata table of the same name)
  playback.hot_*           the hot tier's hourly rollups (scripts/hot_tier.py), current snapshot
SQL is transpiled Trino -> DuckDB with sqlglot. `{{name}}` placeholders are
filled from --param name=value. Errors: one line on stderr, exit 1 (2: usage).

  lake_query.py --sql "SELECT count(*) FROM playback.events"
  lake_query.py --file infra/athena/royalty_report.sql --param close_date=2026-01-01
  lake_query.py --json - < query.sql                      # machine-readable output
  lake_query.py --as-of 2026-12-02T10:00:00Z --sql "SELECT count(*) FROM playback.events_canonical"
  lake_query.py --copy-to s3://b/p/data.parquet - < q.sql  # result as one Parquet file
"""
from __future__ import annotations

import argparse
import datetime
import decimal
import json
import os
import re
import socket
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SAFE_VALUE = re.compile(r"^[A-Za-z0-9 _:./+-]*$")
GLUE_TO_DUCKDB = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "timestamp": "TIMESTAMPTZ"}
TITLE_COLUMNS = [("title_id", "VARCHAR"), ("genre", "VARCHAR"), ("kind", "VARCHAR"),
                 ("duration_ms", "BIGINT"), ("release_day", "DATE")]
LEDGER_COLUMNS = [("event_id", "VARCHAR"), ("event_day", "DATE"), ("title_id", "VARCHAR"),
                  ("watched_ms", "BIGINT"), ("close_id", "VARCHAR")]


# Athena (Trino) time travel on the canonical table; DuckDB has no such clause,
# so it is lifted out of the SQL and becomes the snapshot the view reads.
TIME_TRAVEL = re.compile(
    r"(playback\.events_canonical)\s+FOR\s+(?:VERSION\s+AS\s+OF\s+(\d+)"
    r"|TIMESTAMP\s+AS\s+OF\s+TIMESTAMP\s+'([^']+)')", re.IGNORECASE)


# What sqlglot writes for Trino's approx_percentile(x, p).
APPROX_QUANTILE = re.compile(r"\bAPPROX_QUANTILE\(", re.IGNORECASE)


class QueryError(Exception):
    """A failure reported to the user as one line."""


def lake_defaults() -> dict:
    lake = json.loads((ROOT / "infra" / "pipeline.json").read_text())["lake"]
    return {"bucket": lake["bucket"], "prefix": lake["prefix"],
            "ledger_prefix": lake["reports_prefix"] + "ledger/",
            "catalogue_prefix": lake["catalogue_prefix"]}


def substitute(sql: str, params: dict[str, str]) -> str:
    """Fills {{name}} placeholders; values are restricted so they cannot end a SQL string."""
    for k, v in params.items():
        if not SAFE_VALUE.match(v):
            raise QueryError(f"parameter {k}={v!r}: only letters, digits, space and _:./+- allowed")

    def fill(m: re.Match) -> str:
        if m.group(1) not in params:
            raise QueryError(f"unresolved parameter {{{{{m.group(1)}}}}} (pass --param {m.group(1)}=...)")
        return params[m.group(1)]

    return PLACEHOLDER.sub(fill, sql)


def transpile(sql: str) -> list[str]:
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        stmts = [s for s in sqlglot.transpile(sql, read="trino", write="duckdb") if s.strip()]
    except ParseError as e:
        raise QueryError(f"bad SQL: {str(e).splitlines()[0]}") from None
    if not stmts:
        raise QueryError("no SQL statement given")
    # Athena's approx_percentile is approximate (rank error ~1 %); here it is
    # exact, the nearest-rank value, so tests can hold it to a computed truth.
    return [APPROX_QUANTILE.sub("QUANTILE_DISC(", s) for s in stmts]


def between_markers(text: str, source: str) -> str:
    """The part of a job's MERGE between `-- selection:begin` and `-- selection:end`:
    its USING (...) source, which both engines run."""
    try:
        return text.split("-- selection:begin", 1)[1].split("-- selection:end", 1)[0]
    except IndexError:
        raise QueryError(f"{source}: selection markers missing") from None


NO_EMULATOR = "no emulator: set AWS_ENDPOINT_URL, run `make emulator-up`, or set LAKE_DIR"


def lake_endpoint(lake_dir: str | None, endpoint: str | None) -> str | None:
    """The S3 endpoint to use: None for a local lake directory, else the given
    one, AWS_ENDPOINT_URL or the emulator `make emulator-up` started."""
    if lake_dir:
        return None
    endpoint = endpoint or endpoint_from_env()
    if not endpoint:
        raise QueryError(NO_EMULATOR)
    return endpoint


def events_glob(root: str, prefix: str) -> str:
    """Every raw-log object: <root>/<prefix>dt=.../hour=.../*.parquet."""
    return f"{root}/{prefix.strip('/')}/*/*/*.parquet"


def endpoint_from_env() -> str | None:
    url = os.environ.get("AWS_ENDPOINT_URL")
    if url:
        return url
    run = ROOT / ".run" / "moto.url"
    return run.read_text().strip() if run.exists() else None


def check_reachable(url: str) -> urllib.parse.SplitResult:
    u = urllib.parse.urlsplit(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    try:
        socket.create_connection((u.hostname, port), timeout=2).close()
    except OSError:
        raise QueryError(f"no emulator at {url} (start one: make emulator-up, or set LAKE_DIR)") from None
    return u


def load_extension(con, name: str) -> None:
    """DuckDB cannot download extensions here: LOAD the duckdb-ext-<name> wheel's file."""
    import duckdb

    ext = (Path(duckdb.__file__).resolve().parent.parent / "duckdb_ext" / "extensions"
           / f"v{duckdb.__version__}" / "linux_amd64" / f"{name}.duckdb_extension")
    if not ext.exists():
        raise QueryError(f"{name} extension missing at {ext} (pip install -r requirements-dev.txt)")
    con.execute(f"LOAD '{ext}'")


def connect(endpoint: str | None):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if endpoint:
        u = check_reachable(endpoint)
        load_extension(con, "httpfs")
        region = os.environ.get("AWS_REGION", "us-east-1")
        key = os.environ.get("AWS_ACCESS_KEY_ID", "test")
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "test")
        con.execute(
            f"CREATE SECRET lake (TYPE s3, KEY_ID '{key}', SECRET '{secret}', REGION '{region}', "
            f"ENDPOINT '{u.netloc}', URL_STYLE 'path', USE_SSL {str(u.scheme == 'https').lower()})")
    return con


def lake_column_types() -> list[tuple[str, str]]:
    """(name, DuckDB type) of the raw table's columns, partition keys last."""
    cols = json.loads((ROOT / "events" / "lake-columns.json").read_text())
    return [(c["name"], GLUE_TO_DUCKDB[c["type"]]) for c in cols["columns"] + cols["partition_keys"]]


def lake_columns_sql() -> str:
    return ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in lake_column_types())


def has_files(con, pattern: str) -> bool:
    try:
        return con.execute("SELECT count(*) FROM glob(?)", [pattern]).fetchone()[0] > 0
    except Exception as e:  # e.g. the bucket does not exist
        raise QueryError(f"cannot list {pattern}: {str(e).splitlines()[0]}") from None


def create_views(con, root: str, prefix: str, ledger_prefix: str,
                 catalogue_prefix: str | None = None) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS playback")
    events = events_glob(root, prefix)
    if has_files(con, events):
        # As the Glue table reads them: files of an older contract version (v1:
        # no startup_ms) beside newer ones, a column a file lacks is NULL.
        scan = (f"read_parquet('{events}', hive_partitioning = true, union_by_name = true, "
                "hive_types = {'dt': VARCHAR, 'hour': VARCHAR})")
        have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
        absent = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in lake_column_types() if n not in have)
        con.execute(f"CREATE VIEW playback.events AS SELECT *{', ' + absent if absent else ''} FROM {scan}")
    else:  # no data yet: an empty table with the lake's columns, so queries still bind
        con.execute(f"CREATE VIEW playback.events AS SELECT {lake_columns_sql()} WHERE false")
    ledger = f"{root}/{ledger_prefix.strip('/')}/*/*.parquet"
    if has_files(con, ledger):
        con.execute(
            "CREATE VIEW playback.royalty_ledger AS SELECT * FROM read_parquet("
            f"'{ledger}', hive_partitioning = true, hive_types = {{'close_id': VARCHAR}})")
    else:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in LEDGER_COLUMNS)
        con.execute(f"CREATE VIEW playback.royalty_ledger AS SELECT {cols} WHERE false")
    # The title catalogue (a dimension the content system ships, the load
    # generator's in the demo): release_day as a date whichever way a file holds it.
    catalogue = f"{root}/{(catalogue_prefix or lake_defaults()['catalogue_prefix']).strip('/')}/*.parquet"
    if has_files(con, catalogue):
        con.execute(
            "CREATE VIEW playback.titles AS SELECT title_id, genre, kind, CAST(duration_ms AS BIGINT) AS duration_ms, "
            f"CAST(release_day AS DATE) AS release_day FROM read_parquet('{catalogue}', union_by_name = true)")
    else:
        cols = ", ".join(f"CAST(NULL AS {t}) AS {n}" for n, t in TITLE_COLUMNS)
        con.execute(f"CREATE VIEW playback.titles AS SELECT {cols} WHERE false")


def create_canonical_view(con, lake_dir: str | None, bucket: str, endpoint: str | None,
                          as_of: str | None) -> None:
    """playback.events_canonical: the Iceberg table at its current snapshot or at --as-of
    (pyiceberg resolves the snapshot; DuckDB's iceberg_scan reads it by id)."""
    import canonical_catalog as cc

    try:
        catalog = cc.open_catalog(lake_dir, bucket, endpoint, create=False)
        table = cc.load_table(catalog, create=False) if catalog else None
        current = table.current_snapshot() if table else None
        snap = cc.resolve_snapshot(table, as_of) if as_of and current else current
    except cc.CatalogError as e:
        raise QueryError(str(e)) from None
    create_snapshots_view(con, table)
    if as_of and snap is None:
        raise QueryError(f"--as-of {as_of}: {cc.IDENTIFIER} has no snapshot yet (run make canonical)")
    if snap is None:  # no table yet: empty, with the table's columns, so queries still bind
        cols = ", ".join(f"CAST(NULL AS {GLUE_TO_DUCKDB[t]}) AS {n}" for n, t in cc.raw_columns())
        con.execute(f"CREATE VIEW playback.events_canonical AS SELECT {cols} WHERE false")
        return
    load_extension(con, "avro")  # iceberg reads manifests with it (and would try to download it)
    load_extension(con, "iceberg")
    con.execute("CREATE VIEW playback.events_canonical AS SELECT * FROM iceberg_scan("
                f"'{table.metadata_location}', snapshot_from_id = {snap.snapshot_id})")


def lift_time_travel(sql: str, as_of: str | None) -> tuple[str, str | None]:
    """Removes Athena's FOR VERSION/TIMESTAMP AS OF from the SQL; returns (sql, as_of)."""
    found = {m.group(2) or m.group(3) for m in TIME_TRAVEL.finditer(sql)}
    if len(found) > 1 or (found and as_of and as_of not in found):
        raise QueryError("one snapshot per query: the SQL's FOR ... AS OF clauses and --as-of disagree")
    return TIME_TRAVEL.sub(r"\1", sql), (found.pop() if found else as_of)


def create_snapshots_view(con, table) -> None:
    """playback."events_canonical$snapshots", as Athena's metadata table shows it."""
    rows = [] if table is None else table.metadata.snapshots
    values = ", ".join(
        f"({s.snapshot_id}, {s.parent_snapshot_id if s.parent_snapshot_id is not None else 'NULL'}, "
        f"make_timestamptz({s.timestamp_ms} * 1000), "
        f"'{s.summary.operation.value if s.summary else 'append'}')" for s in rows)
    body = (f"SELECT * FROM (VALUES {values}) AS t(snapshot_id, parent_id, committed_at, operation)" if rows
            else "SELECT CAST(NULL AS BIGINT) AS snapshot_id, CAST(NULL AS BIGINT) AS parent_id, "
                 "CAST(NULL AS TIMESTAMPTZ) AS committed_at, CAST(NULL AS VARCHAR) AS operation WHERE false")
    con.execute(f'CREATE VIEW playback."events_canonical$snapshots" AS {body}')


def as_text(v) -> str | None:
    """Athena's GetQueryResults renders every value as text; so does --json."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:  # TIMESTAMPTZ: UTC wall time, as Athena prints timestamps
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    return str(v)


def run(args: argparse.Namespace) -> int:
    if args.sql is not None:
        sql = args.sql
    elif args.file == "-":
        sql = sys.stdin.read()
    elif args.file:
        path = Path(args.file)
        if not path.is_file():
            raise QueryError(f"no such SQL file: {args.file}")
        sql = path.read_text()
    else:
        raise QueryError("give SQL with --sql, a file, or - for stdin")
    params = {}
    for p in args.param:
        k, sep, v = p.partition("=")
        if not sep or not PLACEHOLDER.fullmatch("{{" + k + "}}"):
            raise QueryError(f"--param {p!r}: expected name=value")
        params[k] = v
    sql, as_of = lift_time_travel(substitute(sql, params), args.as_of)
    stmts = transpile(sql)

    defaults = lake_defaults()
    lake_dir = args.lake_dir or os.environ.get("LAKE_DIR")
    if lake_dir:
        if not Path(lake_dir).is_dir():
            raise QueryError(f"LAKE_DIR {lake_dir} is not a directory")
        con, root = connect(None), str(Path(lake_dir).resolve())
    else:
        endpoint = lake_endpoint(None, args.endpoint)
        con, root = connect(endpoint), f"s3://{args.bucket or defaults['bucket']}"
    create_views(con, root, args.prefix or defaults["prefix"], args.ledger_prefix or defaults["ledger_prefix"])
    # Only queries that name it pay for pyiceberg and the iceberg extension.
    if "events_canonical" in sql.lower() or as_of:
        create_canonical_view(con, lake_dir, args.bucket or defaults["bucket"],
                              None if lake_dir else endpoint, as_of)
    if "playback.hot_" in sql.lower():  # the hot tier's rollups (scripts/hot_tier.py)
        import canonical_catalog as cc
        import hot_tier

        bucket = args.bucket or defaults["bucket"]
        hot_tier.create_views(con, cc.open_catalog(lake_dir, bucket, None if lake_dir else endpoint, create=False))

    try:
        for s in stmts[:-1]:
            con.execute(s)
        last = stmts[-1]
        if args.copy_to:
            # One thread: row groups in a fixed order, so a re-run writes identical bytes.
            con.execute("SET threads = 1")
            n = con.execute(f"COPY ({last}) TO '{args.copy_to}' (FORMAT parquet, COMPRESSION snappy)").fetchone()
            cols, rows = ["rows_written"], [[as_text(n[0] if n else 0)]]
        else:
            rel = con.execute(last)
            cols = [d[0] for d in rel.description] if rel.description else []
            rows = [[as_text(v) for v in r] for r in rel.fetchall()] if cols else []
    except Exception as e:
        msg = " ".join(str(e).split())
        raise QueryError(f"query failed: {msg[:500]}") from None

    if args.json:
        json.dump({"columns": cols, "rows": rows}, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        print_table(cols, rows)
    return 0


def print_table(cols: list[str], rows: list[list[str | None]]) -> None:
    cells = [["NULL" if v is None else v for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    line = lambda vals: " | ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()
    print(line(cols))
    print("-+-".join("-" * w for w in widths))
    for r in cells:
        print(line(r))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", help="SQL file, or - for stdin")
    ap.add_argument("--sql", help="SQL text (instead of a file)")
    ap.add_argument("--file", dest="file_opt", help="SQL file")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--json", action="store_true", help='print {"columns": [...], "rows": [[...]]}')
    ap.add_argument("--copy-to", help="write the result as one Parquet file to this URL/path")
    ap.add_argument("--bucket", help="lake bucket (default: infra/pipeline.json)")
    ap.add_argument("--prefix", help="events prefix (default: infra/pipeline.json)")
    ap.add_argument("--ledger-prefix", help="royalty ledger prefix (default: <reports_prefix>ledger/)")
    ap.add_argument("--lake-dir", help="read the lake from this directory instead of S3 (or LAKE_DIR)")
    ap.add_argument("--endpoint", help="S3 endpoint (default: AWS_ENDPOINT_URL, then .run/moto.url)")
    ap.add_argument("--as-of", default=os.environ.get("AS_OF") or None,
                    help="time travel: read playback.events_canonical at this snapshot id or UTC timestamp (or AS_OF)")
    args = ap.parse_args(argv)
    args.file = args.file_opt or args.file
    try:
        return run(args)
    except QueryError as e:
        print(f"lake_query: {e}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as e:
        print(f"lake_query: {e.name} is not installed (pip install -r requirements-dev.txt)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
