-- Content planning: per title per ISO week (Monday start, event time) over the
-- last 12 weeks of event days: viewers, sessions, minutes watched and a
-- completion proxy = share of sessions whose furthest position reached 90% of
-- the furthest position any session of that title reached that week (the lake
-- has no title durations).
WITH sessions AS (
  SELECT
    title_id,
    CAST(date_trunc('week', event_time) AS DATE) AS week_start,
    session_id,
    min(viewer_id) AS viewer_id,
    sum(coalesce(watched_ms, 0)) AS watched_ms,
    max(coalesce(position_ms, 0)) AS furthest_ms
  FROM playback.events_canonical
  WHERE event_time >= CAST(current_date - INTERVAL '84' DAY AS TIMESTAMP)
  GROUP BY title_id, CAST(date_trunc('week', event_time) AS DATE), session_id
),
titles AS (
  SELECT title_id, week_start, max(furthest_ms) AS title_furthest_ms
  FROM sessions
  GROUP BY title_id, week_start
)
SELECT
  s.title_id,
  s.week_start,
  count(DISTINCT s.viewer_id) AS viewers,
  count(*) AS sessions,
  round(sum(s.watched_ms) / 60000.0, 3) AS minutes_watched,
  CASE
    WHEN t.title_furthest_ms = 0 THEN NULL
    ELSE CAST(count_if(s.furthest_ms >= 0.9 * t.title_furthest_ms) AS DOUBLE) / count(*)
  END AS completion_proxy
FROM sessions AS s
JOIN titles AS t ON t.title_id = s.title_id AND t.week_start = s.week_start
GROUP BY s.title_id, s.week_start, t.title_furthest_ms
ORDER BY s.week_start, minutes_watched DESC, s.title_id
