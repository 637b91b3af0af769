-- Concurrent viewers by hour: distinct viewer_ids with any event in each UTC
-- event hour (not arrival hour), last 7 days of arrivals. Duplicated events
-- cannot inflate a distinct count, so no dedup step is needed.
SELECT
  date_trunc('hour', event_time) AS event_hour,
  count(DISTINCT viewer_id) AS viewers,
  count(DISTINCT session_id) AS sessions
FROM playback.events
WHERE dt >= CAST(current_date - INTERVAL '7' DAY AS VARCHAR)
GROUP BY date_trunc('hour', event_time)
ORDER BY event_hour
