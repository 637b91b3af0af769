-- Top 50 titles by minutes watched over the last 30 event days. Reads the
-- canonical Iceberg table: one row per event_id (canonical_merge.sql picks the
-- copy by the royalty close's rule), so no per-query dedup; the event_time
-- filter prunes to 31 day partitions.
SELECT
  title_id,
  round(sum(coalesce(watched_ms, 0)) / 60000.0, 3) AS minutes_watched,
  count(DISTINCT viewer_id) AS viewers,
  count(*) AS events
FROM playback.events_canonical
WHERE event_time >= CAST(current_date - INTERVAL '30' DAY AS TIMESTAMP)
GROUP BY title_id
ORDER BY minutes_watched DESC, title_id
LIMIT 50
