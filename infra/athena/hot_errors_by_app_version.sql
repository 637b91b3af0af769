-- Hot tier: player error events per app_version x device_platform x error_code,
-- last 7 event days.
SELECT app_version, device_platform, error_code, sum(error_events) AS error_events
FROM playback.hot_errors_hour
WHERE event_hour >= CAST(current_date - INTERVAL '7' DAY AS TIMESTAMP)
GROUP BY app_version, device_platform, error_code
ORDER BY error_events DESC, app_version, device_platform, error_code
