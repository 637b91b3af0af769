-- A/B-style comparison of app versions (last 7 event days): per
-- app_version the rebuffering ratio, errors per 1,000 sessions and minutes
-- watched per session, from the canonical table
-- (each event_id once).
WITH events AS (SELECT * FROM playback.events_canonical WHERE event_time >= CAST(current_date - INTERVAL '7' DAY AS TIMESTAMP))
SELECT
  coalesce(app_version, 'unknown') AS app_version,
  count(DISTINCT session_id) AS sessions,
  count(DISTINCT viewer_id) AS viewers,
  CASE
    WHEN sum(coalesce(watched_ms, 0)) + sum(coalesce(stalled_ms, 0)) = 0 THEN NULL
    ELSE CAST(sum(coalesce(stalled_ms, 0)) AS DOUBLE)
      / (sum(coalesce(watched_ms, 0)) + sum(coalesce(stalled_ms, 0)))
  END AS rebuffering_ratio,
  1000.0 * count_if(event_type = 'error') / count(DISTINCT session_id) AS errors_per_1k_sessions,
  sum(coalesce(watched_ms, 0)) / 60000.0 / count(DISTINCT session_id) AS minutes_per_session
FROM events
GROUP BY coalesce(app_version, 'unknown')
ORDER BY sessions DESC, app_version
