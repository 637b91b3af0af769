-- The canonical job's watermark, derived from the committed data (Athena's MERGE
-- cannot write snapshot-summary properties): the latest arrival (ingest_time)
-- among canonical rows of recent event days. Any value <= the true maximum is
-- safe: the MERGE inserts only absent event_ids, and every raw row with
-- ingest_time <= the last horizon is committed. NULL on an empty table (or no
-- recent rows): the job then starts from its configured start (epoch).
-- {{recent}}: the job asks first for rows that arrived in the last few merge
-- intervals (Iceberg's per-file ingest_time bounds prune every older file, so
-- the read is a few windows, not days); only if there are none (a stalled
-- pipeline) does it ask again with the epoch, reading the whole lookback.
SELECT CAST(max(ingest_time) AS varchar) AS watermark
FROM playback.events_canonical
WHERE event_time >= CAST('{{since}}' AS TIMESTAMP)
  AND ingest_time > CAST('{{recent}}' AS TIMESTAMP)
