-- Rebuffering ratio by title x region x event hour, last 30 event days.
-- ratio = sum(stalled_ms) / (sum(watched_ms) + sum(stalled_ms)) over the
-- canonical table (each event_id once), the same definition as playback-domain
-- metrics::rebuffering_ratio.
SELECT
  title_id,
  region,
  date_trunc('hour', event_time) AS event_hour,
  sum(coalesce(watched_ms, 0)) AS watched_ms,
  sum(coalesce(stalled_ms, 0)) AS stalled_ms,
  CASE
    WHEN sum(coalesce(watched_ms, 0)) + sum(coalesce(stalled_ms, 0)) = 0 THEN NULL
    ELSE CAST(sum(coalesce(stalled_ms, 0)) AS DOUBLE)
      / (sum(coalesce(watched_ms, 0)) + sum(coalesce(stalled_ms, 0)))
  END AS rebuffering_ratio
FROM playback.events_canonical
WHERE event_time >= CAST(current_date - INTERVAL '30' DAY AS TIMESTAMP)
GROUP BY title_id, region, date_trunc('hour', event_time)
ORDER BY event_hour, title_id, region
