-- Hot tier: distinct viewers and sessions per event hour, last 7 event days.
SELECT event_hour, viewers, sessions
FROM playback.hot_viewers_hour
WHERE event_hour >= CAST(current_date - INTERVAL '7' DAY AS TIMESTAMP)
ORDER BY event_hour
