-- Royalty close of UTC day {{close_date}}: the events this close pays, i.e. the
-- rows of ledger partition close_id={{close_date}} (event_id, event_day,
-- title_id, watched_ms). The royalty-close job substitutes the double-brace
-- parameters (crates/royalty/README.md explains each) and writes the result
-- with UNLOAD (Athena) or COPY (local DuckDB) into an emptied partition.
--   source: the canonical Iceberg table (one row per event_id, the earliest
--           copy by the royalty rule: canonical_merge.sql) at snapshot
--           {{snapshot_id}}, recorded in the close's close.json: a re-run or an
--           audit reads the same rows by time travel
--   scope:  winners whose copy arrived in [{{scope_from}}, {{cutoff}}) (UTC), the
--           fixed cutoff; event day <= {{close_date}} (prunes later day partitions)
--   paid:   winners whose event_id no EARLIER close paid (ledger close_id <
--           {{close_date}}), so re-running this close after later ones gives the same rows
WITH scoped AS (
  SELECT event_id, title_id, watched_ms, event_time
  FROM playback.events_canonical FOR VERSION AS OF {{snapshot_id}}
  WHERE ingest_time >= CAST('{{scope_from}}' AS TIMESTAMP)
    AND ingest_time < CAST('{{cutoff}}' AS TIMESTAMP)
    AND event_time < CAST('{{event_before}}' AS TIMESTAMP)
    AND coalesce(title_id, '') <> ''
    AND watched_ms >= 0
),
paid_before AS (
  SELECT DISTINCT event_id
  FROM playback.royalty_ledger
  WHERE close_id < '{{close_date}}' AND close_id >= '{{ledger_from}}'
)
SELECT
  r.event_id,
  date(r.event_time) AS event_day,
  r.title_id,
  r.watched_ms
FROM scoped AS r
LEFT JOIN paid_before AS p ON p.event_id = r.event_id
WHERE p.event_id IS NULL
ORDER BY r.event_id
