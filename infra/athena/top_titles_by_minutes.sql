-- Top 50 titles by minutes watched over the last 30 days of arrivals, counting
-- each event_id once (earliest copy wins, as in the royalty close).
WITH copies AS (
  SELECT
    title_id,
    viewer_id,
    watched_ms,
    row_number() OVER (
      PARTITION BY event_id
      ORDER BY ingest_time, ingest_shard, length(ingest_seq), ingest_seq, ingest_sub
    ) AS copy_rank
  FROM playback.events
  WHERE dt >= CAST(current_date - INTERVAL '30' DAY AS VARCHAR)
)
SELECT
  title_id,
  round(sum(coalesce(watched_ms, 0)) / 60000.0, 3) AS minutes_watched,
  count(DISTINCT viewer_id) AS viewers,
  count(*) AS events
FROM copies
WHERE copy_rank = 1
GROUP BY title_id
ORDER BY minutes_watched DESC, title_id
LIMIT 50
