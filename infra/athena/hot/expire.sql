-- Drops a rollup's hours that left the hot window (before hot_from), except the
-- rows holding its watermark (read just before): deleting those would lower the
-- watermark and make the next refresh add rows already counted.
DELETE FROM playback.{{rollup}}
WHERE event_hour < CAST('{{hot_from}}' AS TIMESTAMP)
  AND max_ingest_time < CAST('{{watermark}}' AS TIMESTAMP)
