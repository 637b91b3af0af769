-- Concurrent viewers by hour: distinct viewer_ids with any event in each UTC
-- event hour, last 7 event days, from the canonical table.
SELECT
  date_trunc('hour', event_time) AS event_hour,
  count(DISTINCT viewer_id) AS viewers,
  count(DISTINCT session_id) AS sessions
FROM playback.events_canonical
WHERE event_time >= CAST(current_date - INTERVAL '7' DAY AS TIMESTAMP)
GROUP BY date_trunc('hour', event_time)
ORDER BY event_hour
