#!/usr/bin/env python3
"""Hot tier vs canonical table vs raw log at a size where the scan, not the
overhead, is the time: a synthetic raw lake of --events rows over the last 7
days (5 % landed twice, an hour later), fed to the canonical job (table + hot
tier), then scripts/tier_compare.py on it. Prints the comparison and writes it
to --out (JSON).

  tiers_bench.py --events 5000000 --dir target/tiers-bench --out bench/tiers.json
"""
from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lake_query as lq  # noqa: E402

SCRIPTS = Path(__file__).resolve().parent

RAW = """
WITH base AS (
  SELECT i, TIMESTAMPTZ '{start}' + to_microseconds(CAST(i * {step_us} AS BIGINT)) AS ts
  FROM range({n}) t(i)
), rows AS (
  SELECT i, ts, ts + INTERVAL 2 SECOND AS arrival, 0 AS copy FROM base
  UNION ALL
  SELECT i, ts, ts + INTERVAL 1 HOUR AS arrival, 1 AS copy FROM base WHERE i % 20 = 7
)
SELECT
  'e' || i AS event_id,
  CASE WHEN i % 25 = 0 THEN 'error' ELSE 'heartbeat' END AS event_type,
  ts AS event_time,
  'v' || (hash(i // 40) % {viewers}) AS viewer_id,
  'v' || (hash(i // 40) % {viewers}) || '-s' || (i // 40) AS session_id,
  't' || lpad(CAST(CAST(floor(pow((hash(i) % 1000000) / 1e6, 3) * {titles}) AS INTEGER) AS VARCHAR), 5, '0') AS title_id,
  ['us-east', 'us-west', 'eu-west', 'ap-south', 'sa-east'][1 + CAST(i % 5 AS INTEGER)] AS region,
  CAST(10000 AS BIGINT) AS watched_ms,
  CAST((hash(i) % 8) * 125 AS BIGINT) AS stalled_ms,
  CAST(3000 AS BIGINT) AS bitrate_kbps,
  CAST(NULL AS BIGINT) AS position_ms,
  ['tv', 'ios', 'android', 'web'][1 + CAST(i % 4 AS INTEGER)] AS device_platform,
  ['5.1.4', '5.2.0', '5.3.0'][1 + CAST(i % 3 AS INTEGER)] AS app_version,
  CASE WHEN i % 25 = 0 THEN 'E' || (i % 13) END AS error_code,
  CAST(NULL AS BIGINT) AS startup_ms,
  2 AS schema_version,
  arrival AS ingest_time,
  'shardId-00000000000' || (i % 4) AS ingest_shard,
  CAST(i * 2 + copy AS VARCHAR) AS ingest_seq,
  0 AS ingest_sub,
  strftime(arrival, '%Y-%m-%d') AS dt,
  strftime(arrival, '%H') AS hour
FROM rows
"""


def run(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:2])}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--titles", type=int, default=2_000)
    ap.add_argument("--viewers", type=int, default=100_000)
    ap.add_argument("--dir", default="target/tiers-bench")
    ap.add_argument("--out", default="bench/tiers.json")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    if args.events < 1000:
        print("tiers_bench: --events must be at least 1000", file=sys.stderr)
        return 2
    lake = Path(args.dir)
    shutil.rmtree(lake, ignore_errors=True)
    (lake / "events").mkdir(parents=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - datetime.timedelta(days=7) + datetime.timedelta(hours=1)
    span_us = (now - datetime.timedelta(hours=2) - start).total_seconds() * 1e6
    t0 = time.perf_counter()
    con = lq.connect(None)
    sql = RAW.format(start=start.isoformat(), step_us=span_us / args.events, n=args.events,
                     viewers=args.viewers, titles=args.titles)
    con.execute(f"COPY ({sql}) TO '{lake / 'events'}' (FORMAT parquet, PARTITION_BY (dt, hour), "
                "COMPRESSION snappy)")
    print(f"tiers_bench: raw lake of {args.events} events (+5 % copies) in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    t0 = time.perf_counter()
    job = run([sys.executable, str(SCRIPTS / "canonical.py"), "--lake-dir", str(lake), "--settle-s", "0", "--json"])
    job_s = time.perf_counter() - t0
    print(f"tiers_bench: canonical job +{job['rows_added']} rows and the hot tier in {job_s:.1f} s", file=sys.stderr)
    cmp = run([sys.executable, str(SCRIPTS / "tier_compare.py"), "--lake-dir", str(lake), "--json",
               "--runs", str(args.runs)])
    result = {"measured_utc": now.isoformat(), "events": args.events, "titles": args.titles,
              "viewers": args.viewers, "canonical_rows": job["rows_added"], "job_s": round(job_s, 1),
              "command": f"make tiers-bench TIERS_EVENTS={args.events}",
              "questions": [{"question": q["question"], "equal": q["equal"],
                             "tiers": {k: {kk: v[kk] for kk in ("table", "files", "bytes", "ms")}
                                       for k, v in q["tiers"].items()}} for q in cmp["questions"]]}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for q in result["questions"]:
        print(f"{q['question']}: answers {'equal' if q['equal'] else 'DIFFER'}")
        for tier, t in q["tiers"].items():
            print(f"  {tier:<9} {t['table']:<34} {t['files']:>5} files {t['bytes']:>12} bytes {t['ms']:>9.1f} ms")
    return 0 if all(q["equal"] for q in result["questions"]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
