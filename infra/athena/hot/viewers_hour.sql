-- Hot tier rollup playback.hot_viewers_hour: distinct viewers and sessions per
-- event hour (concurrent viewers for ops), recent days. Distinct counts do not
-- add across refreshes, so each touched hour is recomputed whole (see
-- title_region_hour.sql for the refresh rule).
MERGE INTO playback.hot_viewers_hour AS t
USING (
-- selection:begin
SELECT
  date_trunc('hour', event_time) AS event_hour,
  count(DISTINCT viewer_id) AS viewers,
  count(DISTINCT session_id) AS sessions,
  max(ingest_time) AS max_ingest_time
FROM playback.events_canonical
WHERE event_time >= CAST('{{hot_from}}' AS TIMESTAMP)
  AND date_trunc('hour', event_time) IN (
    SELECT DISTINCT date_trunc('hour', event_time)
    FROM playback.events_canonical
    WHERE ingest_time > CAST('{{since}}' AS TIMESTAMP)
      AND event_time >= CAST('{{hot_from}}' AS TIMESTAMP)
  )
GROUP BY date_trunc('hour', event_time)
-- selection:end
) AS s
ON t.event_hour = s.event_hour
WHEN MATCHED THEN UPDATE SET viewers = s.viewers, sessions = s.sessions,
  max_ingest_time = s.max_ingest_time
WHEN NOT MATCHED THEN INSERT (event_hour, viewers, sessions, max_ingest_time)
  VALUES (s.event_hour, s.viewers, s.sessions, s.max_ingest_time)
