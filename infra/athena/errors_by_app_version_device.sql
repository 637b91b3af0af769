-- Player error breakdown by app_version x device_platform x error_code, last
-- 7 event days, from the canonical table (each event_id once): error events, sessions hit, and their share of the slice's
-- sessions. Invalid events (the poison DLQ) never reach the lake; records the
-- Firehose transform rejected are under the lake bucket's errors/ prefix.
WITH events AS (
  SELECT
    coalesce(app_version, 'unknown') AS app_version,
    coalesce(device_platform, 'unknown') AS device_platform,
    event_type,
    error_code,
    session_id
  FROM playback.events_canonical
  WHERE event_time >= CAST(current_date - INTERVAL '7' DAY AS TIMESTAMP)
),
slice_sessions AS (
  SELECT app_version, device_platform, count(DISTINCT session_id) AS sessions
  FROM events
  GROUP BY app_version, device_platform
)
SELECT
  e.app_version,
  e.device_platform,
  coalesce(e.error_code, 'none') AS error_code,
  count(*) AS error_events,
  count(DISTINCT e.session_id) AS sessions_with_error,
  s.sessions AS slice_sessions,
  CAST(count(DISTINCT e.session_id) AS DOUBLE) / s.sessions AS session_error_share
FROM events AS e
JOIN slice_sessions AS s
  ON s.app_version = e.app_version AND s.device_platform = e.device_platform
WHERE e.event_type = 'error'
GROUP BY e.app_version, e.device_platform, coalesce(e.error_code, 'none'), s.sessions
ORDER BY error_events DESC, e.app_version, e.device_platform, error_code
