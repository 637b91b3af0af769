"""Hot tier vs canonical table vs raw log on the same questions (last 7 event days):
the answers, the bytes a scan reads and the wall time (DuckDB, median of --runs).

Bytes read = the compressed Parquet column chunks of the columns a query uses, in
the files left after pruning (Iceberg: pyiceberg's scan plan on the time filter;
raw log: the arrival-day partitions that can hold the window): what Athena bills
as bytes scanned, computed from the files' footers, engine-independent.

  tier_compare.py --lake-dir DIR [--json] [--runs 5]
  tier_compare.py                 # the emulator's lake
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import canonical_catalog as cc  # noqa: E402
import hot_tier as ht  # noqa: E402
import lake_query as lq  # noqa: E402

ATHENA = lq.ROOT / "infra" / "athena"
SINCE = "CAST(current_date - INTERVAL '7' DAY AS TIMESTAMP)"
WINNER = ("row_number() OVER (PARTITION BY event_id ORDER BY ingest_time, ingest_shard, "
          "length(ingest_seq), ingest_seq, ingest_sub, title_id, watched_ms, event_time)")

# name -> tier -> (SQL, table read, columns read). The canonical and raw SQL ask
# the hot query's question of the event rows.
QUESTIONS = {
    "minutes_by_title": {
        "hot": ((ATHENA / "hot_minutes_by_title.sql").read_text(), "hot_title_region_hour",
                ["event_hour", "title_id", "watched_ms", "events"]),
        "canonical": (f"""SELECT title_id, round(sum(coalesce(watched_ms, 0)) / 60000.0, 3) AS minutes_watched,
  count(*) AS events FROM playback.events_canonical WHERE event_time >= {SINCE}
GROUP BY title_id ORDER BY minutes_watched DESC, title_id LIMIT 50""", "events_canonical",
                      ["event_time", "title_id", "watched_ms"]),
        "raw": (f"""WITH copies AS (SELECT title_id, watched_ms, {WINNER} AS copy_rank FROM playback.events
  WHERE dt >= CAST(CAST(current_date - INTERVAL '7' DAY AS DATE) AS VARCHAR) AND event_time >= {SINCE}
    AND coalesce(event_id, '') <> '')
SELECT title_id, round(sum(coalesce(watched_ms, 0)) / 60000.0, 3) AS minutes_watched, count(*) AS events
FROM copies WHERE copy_rank = 1 GROUP BY title_id ORDER BY minutes_watched DESC, title_id LIMIT 50""",
                "events", ["event_id", "event_time", "title_id", "watched_ms", "ingest_time",
                           "ingest_shard", "ingest_seq", "ingest_sub"]),
    },
    "rebuffering_by_title_region_hour": {
        "hot": ((ATHENA / "hot_rebuffering_by_title_region_hour.sql").read_text(), "hot_title_region_hour",
                ["event_hour", "title_id", "region", "watched_ms", "stalled_ms"]),
        "canonical": (f"""SELECT title_id, region, date_trunc('hour', event_time) AS event_hour,
  sum(coalesce(watched_ms, 0)) AS watched_ms, sum(coalesce(stalled_ms, 0)) AS stalled_ms,
  CASE WHEN sum(coalesce(watched_ms, 0)) + sum(coalesce(stalled_ms, 0)) = 0 THEN NULL
    ELSE CAST(sum(coalesce(stalled_ms, 0)) AS DOUBLE)
      / (sum(coalesce(watched_ms, 0)) + sum(coalesce(stalled_ms, 0))) END AS rebuffering_ratio
FROM playback.events_canonical WHERE event_time >= {SINCE}
GROUP BY title_id, region, date_trunc('hour', event_time) ORDER BY event_hour, title_id, region""",
                      "events_canonical", ["event_time", "title_id", "region", "watched_ms", "stalled_ms"]),
    },
    "concurrent_viewers_by_hour": {
        "hot": ((ATHENA / "hot_concurrent_viewers_by_hour.sql").read_text(), "hot_viewer_sessions_hour",
                ["event_hour", "viewer_id", "session_id"]),
        "canonical": (f"""SELECT date_trunc('hour', event_time) AS event_hour, count(DISTINCT viewer_id) AS viewers,
  count(DISTINCT session_id) AS sessions FROM playback.events_canonical WHERE event_time >= {SINCE}
GROUP BY date_trunc('hour', event_time) ORDER BY event_hour""", "events_canonical",
                      ["event_time", "viewer_id", "session_id"]),
    },
    "errors_by_app_version": {
        "hot": ((ATHENA / "hot_errors_by_app_version.sql").read_text(), "hot_errors_hour",
                ["event_hour", "app_version", "device_platform", "error_code", "error_events"]),
        "canonical": (f"""SELECT coalesce(app_version, 'unknown') AS app_version,
  coalesce(device_platform, 'unknown') AS device_platform, coalesce(error_code, 'none') AS error_code,
  count(*) AS error_events FROM playback.events_canonical
WHERE event_time >= {SINCE} AND event_type = 'error'
GROUP BY 1, 2, 3 ORDER BY error_events DESC, app_version, device_platform, error_code""",
                      "events_canonical", ["event_time", "event_type", "app_version", "device_platform",
                                           "error_code"]),
    },
}


def column_bytes(io, files: list[str], columns: list[str]) -> int:
    """Compressed bytes of these columns' chunks in these Parquet files (their footers)."""
    import pyarrow.parquet as pq

    total = 0
    for f in files:
        with io.new_input(f).open() as stream:
            meta = pq.ParquetFile(stream).metadata
        for rg in range(meta.num_row_groups):
            group = meta.row_group(rg)
            for c in range(group.num_columns):
                chunk = group.column(c)
                if chunk.path_in_schema in columns:
                    total += chunk.total_compressed_size
        # dt/hour of the raw log are path partitions: no bytes.
    return total


def scanned_files(con, catalog, root: str, prefix: str, table: str, start: datetime.datetime) -> list[str]:
    from pyiceberg.expressions import GreaterThanOrEqual

    if table == "events":
        # An event arrives at or after its event time: arrival days from the window's first day.
        files = [r[0] for r in con.execute("SELECT file FROM glob(?)", [lq.events_glob(root, prefix)]).fetchall()]
        first = f"dt={start.strftime('%Y-%m-%d')}"
        return [f for f in files if re.search(r"dt=\d{4}-\d{2}-\d{2}", f).group(0) >= first]
    t = (cc.load_table(catalog, create=False) if table == "events_canonical"
         else ht.load_rollup(catalog, None, "", table, create=False))
    if t is None or t.current_snapshot() is None:
        return []
    col = "event_time" if table == "events_canonical" else "event_hour"
    return [task.file.file_path for task in t.scan(row_filter=GreaterThanOrEqual(col, start.isoformat())).plan_files()]


def compare(lake_dir: str | None, bucket: str, prefix: str, endpoint: str | None, runs: int) -> dict:
    from pyiceberg.io.pyarrow import PyArrowFileIO

    con = lq.connect(endpoint)
    root = str(Path(lake_dir).resolve()) if lake_dir else f"s3://{bucket}"
    lq.create_views(con, root, prefix, lq.lake_defaults()["ledger_prefix"])
    lq.create_canonical_view(con, lake_dir, bucket, endpoint, None)
    catalog = cc.open_catalog(lake_dir, bucket, endpoint, create=False)
    ht.create_views(con, catalog)
    io = PyArrowFileIO(properties=cc.s3_properties(endpoint))
    start = ht.hot_from(datetime.datetime.now(datetime.timezone.utc))
    out = []
    for name, tiers in QUESTIONS.items():
        q = {"question": name, "tiers": {}}
        for tier, (sql, table, cols) in tiers.items():
            missing = [c for c in cols if c not in sql]
            if missing:
                raise lq.QueryError(f"{name}/{tier}: columns {missing} not in its SQL")
            stmt = lq.transpile(sql)[-1]
            times, rows = [], None
            for _ in range(max(1, runs)):
                t0 = time.perf_counter()
                rows = [[lq.as_text(v) for v in r] for r in con.execute(stmt).fetchall()]
                times.append((time.perf_counter() - t0) * 1000)
            files = scanned_files(con, catalog, root, prefix, table, start)
            q["tiers"][tier] = {"table": f"playback.{table}", "rows": rows, "files": len(files),
                                "bytes": column_bytes(io, files, cols), "ms": round(statistics.median(times), 2)}
        answers = [json.dumps(t["rows"]) for t in q["tiers"].values()]
        q["equal"] = len(set(answers)) == 1
        out.append(q)
    return {"hot_from": start.isoformat(), "questions": out}


def main(argv: list[str]) -> int:
    defaults = lq.lake_defaults()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake-dir", default=os.environ.get("LAKE_DIR"))
    ap.add_argument("--endpoint")
    ap.add_argument("--bucket", default=defaults["bucket"])
    ap.add_argument("--prefix", default=defaults["prefix"])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per query (median reported)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        endpoint = lq.lake_endpoint(args.lake_dir, args.endpoint)
        out = compare(args.lake_dir, args.bucket, args.prefix, endpoint, args.runs)
    except (lq.QueryError, cc.CatalogError, ht.HotTierError) as e:
        print(f"tier_compare: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(out, separators=(",", ":")))
        return 0
    for q in out["questions"]:
        print(f"{q['question']}: answers {'equal' if q['equal'] else 'DIFFER'}")
        for tier, t in q["tiers"].items():
            print(f"  {tier:<9} {t['table']:<32} {len(t['rows']):>5} rows  {t['files']:>4} files  "
                  f"{t['bytes']:>10} bytes  {t['ms']:>8.1f} ms")
    return 0 if all(q["equal"] for q in out["questions"]) else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
