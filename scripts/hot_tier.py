"""The hot tier: hourly rollups of the canonical table's recent days, kept by the
canonical job after each run (scripts/canonical.py calls refresh()).

Each rollup is an Iceberg table playback.hot_<name> whose SQL lives in
infra/athena/hot/<name>.sql (the selection between the markers runs here on
DuckDB; Athena runs the whole MERGE). Its watermark is data: the latest canonical
arrival its rows reflect (watermark.sql), so progress commits with the rows. One
refresh = recompute every hour touched by canonical rows that arrived after the
watermark, then ONE commit that replaces those hours and drops hours older than
the hot window. Idempotent: a re-run finds nothing past the watermark.

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
ROLLUPS = ("title_region_hour", "viewers_hour", "errors_hour")
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
    text = (HOT_SQL / f"{rollup}.sql").read_text()
    try:
        body = text.split("-- selection:begin", 1)[1].split("-- selection:end", 1)[0]
    except IndexError:
        raise HotTierError(f"{rollup}.sql: selection markers missing") from None
    return lq.transpile(lq.substitute(body, params))[-1]


def hot_location(lake_dir: str | None, bucket: str, table: str) -> str:
    _, warehouse = cc.locations(lake_dir, bucket)
    return f"{warehouse.rsplit('/canonical', 1)[0]}/hot/{table}"


def load_rollup(catalog, lake_dir, bucket, table: str, create: bool):
    from pyiceberg.exceptions import NoSuchTableError
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.schema import Schema
    from pyiceberg.transforms import DayTransform
    from pyiceberg.types import LongType, NestedField, StringType, TimestamptzType

    ident = f"{cc.NAMESPACE}.{table}"
    try:
        return catalog.load_table(ident)
    except NoSuchTableError:
        if not create:
            return None
    types = {"string": StringType, "bigint": LongType, "timestamp": TimestamptzType}
    schema = Schema(*[NestedField(i + 1, n, types[t](), required=False)
                      for i, (n, t) in enumerate(columns()[table])])
    spec = PartitionSpec(PartitionField(source_id=schema.find_field("event_hour").field_id,
                                        field_id=1000, transform=DayTransform(), name="event_day"))
    catalog.create_namespace_if_not_exists(cc.NAMESPACE)
    return catalog.create_table_if_not_exists(
        ident, schema=schema, partition_spec=spec, location=hot_location(lake_dir, bucket, table),
        properties=cc.TABLE_PROPERTIES)


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


def refresh(lake_dir: str | None, bucket: str, endpoint: str | None, now: datetime.datetime) -> dict:
    """Brings every rollup up to the canonical table's current snapshot."""
    from pyiceberg.expressions import In, LessThan

    catalog = cc.open_catalog(lake_dir, bucket, endpoint, create=True)
    con = lq.connect(endpoint)
    con.execute("CREATE SCHEMA IF NOT EXISTS playback")
    lq.create_canonical_view(con, lake_dir, bucket, endpoint, None)
    start = hot_from(now)
    out = {}
    for rollup in ROLLUPS:
        table = table_name(rollup)
        t = load_rollup(catalog, lake_dir, bucket, table, create=True)
        create_views(con, catalog, {table})
        sql = lq.transpile(lq.substitute((HOT_SQL / "watermark.sql").read_text(), {"rollup": table}))[-1]
        since = con.execute(sql).fetchone()[0]
        params = {"since": since.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"),
                  "hot_from": start.strftime("%Y-%m-%d %H:%M:%S")}
        try:
            rows = con.execute(selection(rollup, params)).fetch_arrow_table()
        except Exception as e:
            raise HotTierError(f"{table}: {' '.join(str(e).split())[:400]}") from None
        hours = sorted({h for h in rows.column("event_hour").to_pylist()})
        expired = t.current_snapshot() is not None and t.scan(
            row_filter=LessThan("event_hour", start.isoformat()), selected_fields=("event_hour",)
        ).to_arrow().num_rows > 0
        out[table] = {"hours": len(hours), "rows": rows.num_rows, "committed": False}
        if not hours and not expired:
            continue  # nothing past the watermark: no commit
        rows = rows.sort_by([(c, "ascending") for c in rows.column_names if c != "max_ingest_time"])
        with t.transaction() as tx:  # one commit: the touched hours replaced, old hours dropped
            if expired:
                tx.delete(LessThan("event_hour", start.isoformat()))
            if hours:
                tx.overwrite(rows.cast(t.schema().as_arrow()),
                             overwrite_filter=In("event_hour", [h.isoformat() for h in hours]))
            cc.chaos("hot-commit")
        out[table].update(committed=True, snapshot_id=t.current_snapshot().snapshot_id)
    return out


def main(argv: list[str]) -> int:
    defaults = lq.lake_defaults()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake-dir", default=os.environ.get("LAKE_DIR"))
    ap.add_argument("--endpoint")
    ap.add_argument("--bucket", default=defaults["bucket"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    endpoint = None if args.lake_dir else (args.endpoint or lq.endpoint_from_env())
    if not args.lake_dir and not endpoint:
        print("hot_tier: no emulator: set AWS_ENDPOINT_URL, run `make emulator-up`, or set LAKE_DIR",
              file=sys.stderr)
        return 1
    try:
        out = refresh(args.lake_dir, args.bucket, endpoint, datetime.datetime.now(datetime.timezone.utc))
    except (HotTierError, lq.QueryError, cc.CatalogError) as e:
        print(f"hot_tier: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out, separators=(",", ":")) if args.json else
          "; ".join(f"{k}: {v['hours']} hours, {v['rows']} rows" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
