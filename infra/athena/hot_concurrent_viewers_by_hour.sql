-- Hot tier: distinct viewers and sessions per event hour, last 7 event days,
-- from the session-hour set (a row per viewer x session x hour, not per event).
SELECT
  event_hour,
  count(DISTINCT viewer_id) AS viewers,
  count(DISTINCT session_id) AS sessions
FROM playback.hot_viewer_sessions_hour
WHERE event_hour >= CAST(current_date - INTERVAL '7' DAY AS TIMESTAMP)
GROUP BY event_hour
ORDER BY event_hour
