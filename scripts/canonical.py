#!/usr/bin/env python3
"""Incremental job: raw lake -> the canonical Iceberg table playback.events_canonical.

One run = one arrival window (watermark, horizon]:
  0. schema: lake columns the table lacks (startup_ms, schema_version 2) are
     added in place (Iceberg schema evolution: no data file rewritten);
  1. watermark: read from the table's current snapshot (the job's progress is
     committed with the data, so the two can never disagree);
  2. horizon: --until, else now - --settle-s (rows must have landed: Firehose
     buffers up to buffer_s before the Parquet reaches S3);
  3. winners of the window's raw rows: the selection of
     infra/athena/canonical_merge.sql, on DuckDB (the same file Athena runs);
  4. anti-join against the table on the event days those winners touch;
  5. ONE append snapshot with the new rows and the new watermark, committed
     only if the table is still at the snapshot read in 1 (pyiceberg asserts
     it), so a concurrent or crashed run cannot double-insert.
Why insert-if-absent per window equals the batch winner: canonical_merge.sql.
Nothing new -> no commit (re-runs are no-ops). A crash before 5 leaves the
table at its last snapshot (written files are unreferenced orphans); the next
run redoes the same window. PLAYBACK_CHAOS_POINTS=canonical-select or
canonical-commit SIGKILLs the job after the selection or after the data files
are written, just before the commit.
Then the hot tier's rollups are brought up to the new snapshot (scripts/hot_tier.py;
--no-hot skips it; a crash before it only delays it to the next run).

  canonical.py --lake-dir DIR --until '2026-12-02 10:00:00' --json
  canonical.py                       # the emulator's lake (AWS_ENDPOINT_URL / .run/moto.url)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import canonical_catalog as cc  # noqa: E402
import hot_tier as ht  # noqa: E402
import lake_query as lq  # noqa: E402

MERGE_SQL = lq.ROOT / "infra" / "athena" / "canonical_merge.sql"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # what the SQL placeholders accept


class JobError(Exception):
    pass


def parse_ts(text: str) -> datetime.datetime:
    try:
        ts = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise JobError(f"bad timestamp {text!r} (expected UTC 'YYYY-MM-DD HH:MM:SS[.fff]')") from None
    return ts.replace(tzinfo=datetime.timezone.utc) if ts.tzinfo is None else ts.astimezone(datetime.timezone.utc)


def fmt(ts: datetime.datetime) -> str:
    return ts.astimezone(datetime.timezone.utc).strftime(TS_FORMAT)


def selection_sql() -> str:
    """The USING (...) part of the Athena MERGE: the same selection on both engines."""
    return lq.between_markers(MERGE_SQL.read_text(), str(MERGE_SQL))


def default_settle_s() -> int:
    # Twice Firehose's buffer interval: a row is in S3 well before then.
    lake = json.loads((lq.ROOT / "infra" / "pipeline.json").read_text())["lake"]
    return 2 * int(lake["buffer_s"])


def select_winners(args, watermark: datetime.datetime, horizon: datetime.datetime):
    """The window's winners as an Arrow table (DuckDB over the raw Parquet)."""
    params = {"watermark": fmt(watermark), "horizon": fmt(horizon),
              "dt_from": watermark.strftime("%Y-%m-%d"), "hour_from": watermark.strftime("%H")}
    stmts = lq.transpile(lq.substitute(selection_sql(), params))
    if args.lake_dir:
        con, root = lq.connect(None), str(Path(args.lake_dir).resolve())
    else:
        con, root = lq.connect(args.endpoint), f"s3://{args.bucket}"
    lq.create_views(con, root, args.prefix, lq.lake_defaults()["ledger_prefix"])
    try:
        return con.execute(stmts[-1]).fetch_arrow_table()
    except Exception as e:
        raise JobError(f"selection failed: {' '.join(str(e).split())[:500]}") from None


def day_filter(days: list[datetime.date]):
    """event_time within any of these UTC days: pyiceberg prunes to their partitions."""
    from pyiceberg.expressions import And, GreaterThanOrEqual, LessThan, Or

    def day(d: datetime.date):
        start = datetime.datetime.combine(d, datetime.time(), datetime.timezone.utc)
        end = start + datetime.timedelta(days=1)
        return And(GreaterThanOrEqual("event_time", start.isoformat()), LessThan("event_time", end.isoformat()))

    expr = day(days[0])
    for d in days[1:]:
        expr = Or(expr, day(d))
    return expr


def absent_rows(table, winners):
    """Winners whose event_id the table lacks, looked up in their event-day partitions.
    Copies of one event_id share event_time (event_id is assigned once by the
    producer and retries resend the event), so its row is in the same day."""
    import pyarrow.compute as pc

    days = sorted({t.date() for t in winners.column("event_time").to_pylist() if t is not None})
    if not days or table.current_snapshot() is None:
        return winners, days
    present = table.scan(row_filter=day_filter(days), selected_fields=("event_id",)).to_arrow()
    keep = pc.invert(pc.is_in(winners.column("event_id"), value_set=present.column("event_id")))
    return winners.filter(keep), days


def run(args) -> dict:
    catalog = cc.open_catalog(args.lake_dir, args.bucket, None if args.lake_dir else args.endpoint, create=True)
    if args.reset:
        cc.drop_entry(catalog)
    table = cc.load_table(catalog, create=True)
    added = cc.evolve_schema(table)
    base = table.current_snapshot()
    prev = cc.watermark(table)
    watermark = parse_ts(prev) if prev else EPOCH
    horizon = parse_ts(args.until) if args.until else (
        datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=args.settle_s))
    out = {"table": cc.IDENTIFIER, "watermark": fmt(watermark), "horizon": fmt(horizon), "committed": False,
           "candidates": 0, "rows_added": 0, "event_days": [],
           "snapshot_id": base.snapshot_id if base else None, "columns_added": added}
    if horizon <= watermark:
        return out
    winners = select_winners(args, watermark, horizon)
    out["candidates"] = winners.num_rows
    cc.chaos("canonical-select")
    new, days = absent_rows(table, winners)
    out["event_days"] = [d.isoformat() for d in days]
    if new.num_rows == 0:
        return out  # the watermark stays: the next run re-reads this window, finds nothing again
    # Sorted by day and id: deterministic files, tight min/max stats for pruning.
    new = new.sort_by([("event_time", "ascending"), ("event_id", "ascending")])
    # By name: a column added by evolution sits at the table's end.
    new = new.select(table.schema().column_names).cast(table.schema().as_arrow())
    props = {cc.WATERMARK_KEY: fmt(horizon), "playback.previous-watermark": fmt(watermark),
             "playback.job": "canonical"}
    from pyiceberg.exceptions import CommitFailedException

    try:
        with table.transaction() as tx:
            tx.append(new, snapshot_properties=props)  # data + manifest files written, not yet visible
            cc.chaos("canonical-commit")
    except CommitFailedException as e:
        raise JobError(f"another run committed first, nothing committed (re-run): {e}") from None
    # leaving the block commits: one catalog swap, refused if another run committed since `base`
    snap = table.current_snapshot()
    out.update(committed=True, rows_added=new.num_rows, snapshot_id=snap.snapshot_id, watermark=fmt(horizon))
    return out


def main(argv: list[str]) -> int:
    defaults = lq.lake_defaults()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lake-dir", default=os.environ.get("LAKE_DIR"),
                    help="raw lake and table in this directory instead of the emulator's S3 (or LAKE_DIR)")
    ap.add_argument("--endpoint", help="S3 endpoint (default: AWS_ENDPOINT_URL, then .run/moto.url)")
    ap.add_argument("--bucket", default=defaults["bucket"], help="lake bucket (default: infra/pipeline.json)")
    ap.add_argument("--prefix", default=defaults["prefix"], help="raw events prefix")
    ap.add_argument("--until", help="window end (UTC); default: now - settle")
    ap.add_argument("--settle-s", type=int, default=default_settle_s(),
                    help="how far the horizon trails the clock (default: 2 x Firehose buffer_s)")
    ap.add_argument("--reset", action="store_true",
                    help="forget the table in the catalog first (after an emulator restart)")
    ap.add_argument("--no-hot", action="store_true", help="do not refresh the hot tier's rollups")
    ap.add_argument("--json", action="store_true", help="print the run's summary as JSON")
    args = ap.parse_args(argv)
    try:
        args.endpoint = lq.lake_endpoint(args.lake_dir, args.endpoint)
        out = run(args)
        if not args.no_hot:
            now = parse_ts(args.until) if args.until else datetime.datetime.now(datetime.timezone.utc)
            out["hot"] = ht.refresh(args.lake_dir, args.bucket, args.endpoint, now)
    except (JobError, lq.QueryError, cc.CatalogError, ht.HotTierError) as e:
        print(f"canonical: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(out, separators=(",", ":")))
    elif out["committed"]:
        print(f"canonical: +{out['rows_added']} rows ({out['candidates']} winners in the window, "
              f"{len(out['event_days'])} event days); snapshot {out['snapshot_id']}; watermark {out['watermark']}")
    else:
        print(f"canonical: nothing new up to {out['horizon']} ({out['candidates']} winners in the window "
              f"already present); snapshot {out['snapshot_id']}; watermark {out['watermark']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
