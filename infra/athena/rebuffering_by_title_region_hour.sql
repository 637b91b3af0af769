-- Rebuffering ratio by title x region x event hour, last 30 days of arrivals.
-- ratio = sum(stalled_ms) / (sum(watched_ms) + sum(stalled_ms)) over distinct
-- event_ids (a producer retry lands twice in the lake; the earliest copy counts),
-- the same definition as playback-domain metrics::rebuffering_ratio.
WITH copies AS (
  SELECT
    e.*,
    row_number() OVER (
      PARTITION BY event_id
      ORDER BY ingest_time, ingest_shard, length(ingest_seq), ingest_seq, ingest_sub
    ) AS copy_rank
  FROM playback.events AS e
  WHERE dt >= CAST(current_date - INTERVAL '30' DAY AS VARCHAR)
),
events AS (SELECT * FROM copies WHERE copy_rank = 1)
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
FROM events
GROUP BY title_id, region, date_trunc('hour', event_time)
ORDER BY event_hour, title_id, region
