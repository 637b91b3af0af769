-- Hot tier: rebuffering ratio per title x region x event hour, last 7 event days
-- (ratio = stalled / (watched + stalled), as playback-domain metrics::rebuffering_ratio).
SELECT
  title_id,
  region,
  event_hour,
  watched_ms,
  stalled_ms,
  CASE WHEN watched_ms + stalled_ms = 0 THEN NULL
    ELSE CAST(stalled_ms AS DOUBLE) / (watched_ms + stalled_ms) END AS rebuffering_ratio
FROM playback.hot_title_region_hour
WHERE event_hour >= CAST(current_date - INTERVAL '7' DAY AS TIMESTAMP)
ORDER BY event_hour, title_id, region
