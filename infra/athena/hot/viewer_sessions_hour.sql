-- Hot tier rollup playback.hot_viewer_sessions_hour: one row per (event hour,
-- viewer, session) seen, recent days: distinct counts do not add up across
-- refreshes, a set does. Concurrent viewers / sessions per hour are then
-- count(DISTINCT) over a few rows per session-hour instead of every event.
-- Insert-if-absent, so any re-read is harmless; the watermark (max of
-- max_ingest_time, watermark.sql) advances with each new session-hour.
MERGE INTO playback.hot_viewer_sessions_hour AS t
USING (
-- selection:begin
SELECT
  date_trunc('hour', event_time) AS event_hour,
  viewer_id,
  session_id,
  max(ingest_time) AS max_ingest_time
FROM playback.events_canonical
WHERE event_time >= CAST('{{hot_from}}' AS TIMESTAMP)
  AND ingest_time > CAST('{{since}}' AS TIMESTAMP)
GROUP BY date_trunc('hour', event_time), viewer_id, session_id
-- selection:end
) AS s
ON t.event_hour = s.event_hour AND t.viewer_id = s.viewer_id AND t.session_id = s.session_id
WHEN NOT MATCHED THEN INSERT (event_hour, viewer_id, session_id, max_ingest_time)
  VALUES (s.event_hour, s.viewer_id, s.session_id, s.max_ingest_time)
