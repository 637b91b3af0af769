-- Hot tier: minutes watched and events per title over the last 7 event days,
-- from the hourly rollup (a few rows per title x region x hour instead of every
-- event). Same answer as the same question on playback.events_canonical (the
-- demo and tests/tests/hot_tier.rs compare them); older windows: top_titles_by_minutes.sql.
SELECT
  title_id,
  round(sum(watched_ms) / 60000.0, 3) AS minutes_watched,
  sum(events) AS events
FROM playback.hot_title_region_hour
WHERE event_hour >= CAST(current_date - INTERVAL '7' DAY AS TIMESTAMP)
GROUP BY title_id
ORDER BY minutes_watched DESC, title_id
LIMIT 50
