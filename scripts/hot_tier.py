"""The hot tier: small rollups of the canonical table's recent days, kept by the
canonical job after each run (scripts/canonical.py calls refresh()).

Each rollup is an Iceberg table playback.hot_<name> whose MERGE lives in
infra/athena/hot/<name>.sql; Athena runs it on AWS (functions/canonical-merge),
and here DuckDB runs the same statement on a copy of the rollup, whose changed
hours are then committed to the Iceberg table in ONE overwrite. The watermark
is data (watermark.sql: the latest canonical arrival the rows reflect), so the
rows and the progress commit together: a crash before the commit redoes the
same refresh, after it finds nothing new. Hours past the hot window are dropped
in the same commit (expire.sql).

  hot_tier.py --lake-dir DIR [--json]     # refresh (the canonical job does this)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import canonical_catalog as cc  # noqa: E402
import lake_query as lq  # noqa: E402

HOT_SQL = lq.ROOT / "infra" / "athena" / "hot"
ROLLUPS = ("title_region_hour", "viewer_sessions_hour", "errors_hour")
HOT_DAYS = 7  # the named hot_*.sql queries read current_date - 7 days on
CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS playback\.(\w+) \((.*?)\n\)", re.S)


class HotTierError(Exception):
    pass


def table_name(rollup: str) -> str:
    return f"hot_{rollup}"


def columns() -> dict[str, list[tuple[str, str]]]:
    """{table: [(column, glue type)]} from infra/athena/hot/tables.sql (the Athena DDL)."""
    out = {}
    for name, body in CREATE.findall((HOT_SQL / "tables.sql").read_text()):
        out[name] = [tuple(c.strip().split()[:2]) for c in body.strip().split(",\n")]
    return out


def selection(rollup: str, params: dict[str, str]) -> str:
    path = HOT_SQL / f"{rollup}.sql"
    return lq.transpile(lq.substitute(lq.between_markers(path.read_text(), str(path)), params))[-1]


def hot_location(lake_dir: str | None, bucket: str, table: str) -> str:
    _, warehouse = cc.locations(lake_dir, bucket)
    return f"{warehouse.rsplit('/canonical', 1)[0]}/hot/{table}"


def load_rollup(catalog, lake_dir, bucket, table: str, create: bool):
    from pyiceberg.exceptions import NoSuchTableError

    ident = f"{cc.NAMESPACE}.{table}"
    try:
        return catalog.load_table(ident)
    except NoSuchTableError:
        if not create:
            return None
    schema = cc.iceberg_schema(columns()[table])
    catalog.create_namespace_if_not_exists(cc.NAMESPACE)
    return catalog.create_table_if_not_exists(
        ident, schema=schema, partition_spec=cc.partition_spec(schema, "event_hour"),
        location=hot_location(lake_dir, bucket, table), properties=cc.TABLE_PROPERTIES)


def create_views(con, catalog, tables=None) -> None:
    """playback.hot_<name> views at each rollup's current snapshot (empty if none yet)."""
    lq.load_extension(con, "avro")
    lq.load_extension(con, "iceberg")
    con.execute("CREATE SCHEMA IF NOT EXISTS playback")
    for table, cols in columns().items():
        if tables is not None and table not in tables:
            continue
        t = load_rollup(catalog, None, "", table, create=False) if catalog else None
        snap = t.current_snapshot() if t else None
        con.execute(f"DROP VIEW IF EXISTS playback.{table}")
        if snap is None:
            nulls = ", ".join(f"CAST(NULL AS {lq.GLUE_TO_DUCKDB[ty]}) AS {n}" for n, ty in cols)
            con.execute(f"CREATE VIEW playback.{table} AS SELECT {nulls} WHERE false")
        else:
            con.execute(f"CREATE VIEW playback.{table} AS SELECT * FROM iceberg_scan("
                        f"'{t.metadata_location}', snapshot_from_id = {snap.snapshot_id})")


def hot_from(now: datetime.datetime) -> datetime.datetime:
    day = now.astimezone(datetime.timezone.utc).date() - datetime.timedelta(days=HOT_DAYS)
    return datetime.datetime.combine(day, datetime.time(), datetime.timezone.utc)


def render(name: str, params: dict[str, str]) -> str:
    return lq.transpile(lq.substitute((HOT_SQL / f"{name}.sql").read_text(), params))[-1]


def materialize(con, t, table: str) -> None:
    """playback.<table> as a DuckDB table holding the rollup's current rows."""
    con.execute(f"DROP VIEW IF EXISTS playback.{table}")
    snap = t.current_snapshot()
    if snap is None:
        cols = ", ".join(f"{n} {lq.GLUE_TO_DUCKDB[ty]}" for n, ty in columns()[table])
        con.execute(f"CREATE TABLE playback.{table} ({cols})")
    else:
        con.execute(f"CREATE TABLE playback.{table} AS SELECT * FROM iceberg_scan("
                    f"'{t.metadata_location}', snapshot_from_id = {snap.snapshot_id})")


def hours_of(con, sql: str) -> set:
    return {r[0] for r in con.execute(f"SELECT DISTINCT event_hour FROM ({sql})").fetchall()}


def refresh(lake_dir: str | None, bucket: str, endpoint: str | None, now: datetime.datetime) -> dict:
    """Brings every rollup up to the canonical table's current snapshot."""
    from pyiceberg.expressions import In

    catalog = cc.open_catalog(lake_dir, bucket, endpoint, create=True)
    con = lq.connect(endpoint)
    con.execute("CREATE SCHEMA IF NOT EXISTS playback")
    lq.create_canonical_view(con, lake_dir, bucket, endpoint, None)
    lq.load_extension(con, "avro")
    lq.load_extension(con, "iceberg")
    start = hot_from(now).strftime("%Y-%m-%d %H:%M:%S")
    out = {}
    for rollup in ROLLUPS:
        table = table_name(rollup)
        t = load_rollup(catalog, lake_dir, bucket, table, create=True)
        materialize(con, t, table)
        since = con.execute(render("watermark", {"rollup": table})).fetchone()[0]
        since = datetime.datetime.fromisoformat(since).strftime("%Y-%m-%d %H:%M:%S.%f")
        params = {"since": since, "hot_from": start, "rollup": table, "watermark": since}
        merge = render(rollup, params)
        expire = render("expire", params)
        try:
            # The MERGE's source (between its markers) gives the hours it adds to.
            touched = hours_of(con, selection(rollup, params))
            expired = hours_of(con, f"SELECT event_hour FROM playback.{table} "
                                    f"WHERE {expire.split(' WHERE ', 1)[1]}")
            out[table] = {"hours": len(touched), "expired_hours": len(expired), "committed": False}
            if not touched and not expired:
                continue  # nothing past the watermark: no commit
            con.execute(merge)
            con.execute(expire)
            changed = sorted(touched | expired)
            keys = ", ".join(n for n, _ in columns()[table] if n != "max_ingest_time")
            rows = con.execute(f"SELECT * FROM playback.{table} WHERE event_hour IN "
                               f"(SELECT UNNEST(?::TIMESTAMPTZ[])) ORDER BY {keys}",
                               [changed]).fetch_arrow_table()
        except Exception as e:
            raise HotTierError(f"{table}: {' '.join(str(e).split())[:400]}") from None
        with t.transaction() as tx:  # one commit: the changed hours' rows replaced
            tx.overwrite(rows.cast(t.schema().as_arrow()),
                         overwrite_filter=In("event_hour", [h.isoformat() for h in changed]))
            cc.chaos("hot-commit")
        out[table].update(committed=True, rows=rows.num_rows, snapshot_id=t.current_snapshot().snapshot_id)
    return out


def main(argv: list[str]) -> int:
    defaults = lq.lake_defaults()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake-dir", default=os.environ.get("LAKE_DIR"))
    ap.add_argument("--endpoint")
    ap.add_argument("--bucket", default=defaults["bucket"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        endpoint = lq.lake_endpoint(args.lake_dir, args.endpoint)
        out = refresh(args.lake_dir, args.bucket, endpoint, datetime.datetime.now(datetime.timezone.utc))
    except (HotTierError, lq.QueryError, cc.CatalogError) as e:
        print(f"hot_tier: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out, separators=(",", ":")) if args.json else
          "; ".join(f"{k}: {v['hours']} hours{' committed' if v['committed'] else ''}"
                    for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
