-- A/B-style comparison of app versions (last 7 days of arrivals): per
-- app_version the rebuffering ratio, errors per 1,000 sessions and minutes
-- watched per session, over distinct event_ids (earliest copy wins).
WITH copies AS (
  SELECT
    e.*,
    row_number() OVER (
      PARTITION BY event_id
      ORDER BY ingest_time, ingest_shard, length(ingest_seq), ingest_seq, ingest_sub
    ) AS copy_rank
  FROM playback.events AS e
  WHERE dt >= CAST(current_date - INTERVAL '7' DAY AS VARCHAR)
),
events AS (SELECT * FROM copies WHERE copy_rank = 1)
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
