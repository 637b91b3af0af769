-- Royalty close of UTC day {{close_date}}: the events this close pays, i.e. the
-- rows of ledger partition close_id={{close_date}} (event_id, event_day,
-- title_id, watched_ms). The royalty-close job substitutes the double-brace
-- parameters (crates/royalty/README.md explains each) and writes the result
-- with UNLOAD (Athena) or COPY (local DuckDB) into an emptied partition.
--   scope:  rows that arrived before the fixed cutoff {{cutoff}} (UTC) in
--           partitions dt {{dt_from}} .. {{dt_to}} (hour <= {{hour_to}} on the last day)
--   dedup:  one winner per event_id: earliest ingest_time, then ingest_shard,
--           then ingest_seq as a number (length, then digits), then ingest_sub
--   paid:   winners whose event day <= {{close_date}} and whose event_id no
--           EARLIER close paid (ledger close_id < {{close_date}}), so re-running
--           this close after later ones gives the same rows
WITH scoped AS (
  SELECT event_id, title_id, watched_ms, event_time, ingest_time, ingest_shard, ingest_seq, ingest_sub
  FROM playback.events
  WHERE dt BETWEEN '{{dt_from}}' AND '{{dt_to}}'
    AND (dt < '{{dt_to}}' OR hour <= '{{hour_to}}')
    AND ingest_time < CAST('{{cutoff}}' AS TIMESTAMP)
    AND coalesce(event_id, '') <> ''
    AND coalesce(title_id, '') <> ''
    AND watched_ms >= 0
),
ranked AS (
  SELECT
    scoped.*,
    row_number() OVER (
      PARTITION BY event_id
      ORDER BY ingest_time, ingest_shard, length(ingest_seq), ingest_seq, ingest_sub,
        title_id, watched_ms, event_time
    ) AS copy_rank
  FROM scoped
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
FROM ranked AS r
LEFT JOIN paid_before AS p ON p.event_id = r.event_id
WHERE r.copy_rank = 1
  AND date(r.event_time) <= DATE '{{close_date}}'
  AND p.event_id IS NULL
ORDER BY r.event_id
