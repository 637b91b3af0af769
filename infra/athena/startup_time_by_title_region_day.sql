-- Video startup time (play request to first frame, startup_ms, contract
-- schema_version 2) by title x region x event day, last 30 event days: p50 and
-- p95 over the session_start events that carry it (v1 players send none, and
-- rows from before v2 read it as NULL; both are left out, not counted as 0).
-- Reads the canonical table (each event_id once). approx_percentile is
-- Athena's (rank error ~1 %); scripts/lake_query.py computes it exactly.
SELECT
  title_id,
  region,
  date(event_time) AS event_day,
  count(*) AS starts,
  approx_percentile(startup_ms, 0.5) AS p50_startup_ms,
  approx_percentile(startup_ms, 0.95) AS p95_startup_ms
FROM playback.events_canonical
WHERE event_type = 'session_start'
  AND startup_ms IS NOT NULL
  AND event_time >= CAST(current_date - INTERVAL '30' DAY AS TIMESTAMP)
GROUP BY title_id, region, date(event_time)
ORDER BY event_day, title_id, region
