-- Long-horizon viewer features of the run at {{as_of}} ('YYYY-MM-DD HH:MM:SS.fff', UTC).
-- The definition is crates/playback-domain/src/long_horizon.rs; a test holds
-- this query to it on the same rows. Integers only (basis points, floor).
-- The window: event_time in [as_of - 30 days, as_of) and arrived before as_of,
-- so re-running a past run (after late events landed) gives the same rows.
WITH w AS (
  SELECT e.viewer_id, e.session_id, e.title_id, e.event_time, e.position_ms, e.device_platform,
         greatest(coalesce(e.watched_ms, 0), 0) AS watched,
         t.title_id IS NOT NULL AS catalogued, t.genre, t.duration_ms
  FROM playback.events_canonical e
  LEFT JOIN playback.titles t ON t.title_id = e.title_id
  WHERE e.event_time >= TIMESTAMP '{{as_of}} UTC' - INTERVAL '30' DAY
    AND e.event_time < TIMESTAMP '{{as_of}} UTC'
    AND e.ingest_time < TIMESTAMP '{{as_of}} UTC'
),
totals AS (
  SELECT viewer_id, CAST(sum(watched) AS bigint) AS watched_ms,
         count(DISTINCT CAST(event_time AS date)) AS active_days
  FROM w GROUP BY viewer_id
),
genre_ms AS (
  SELECT viewer_id, genre, CAST(sum(watched) AS bigint) AS ms FROM w WHERE catalogued GROUP BY viewer_id, genre
),
genres AS (
  SELECT viewer_id, genre,
         CAST(floor(ms * 10000 / sum(ms) OVER (PARTITION BY viewer_id)) AS bigint) AS bp,
         row_number() OVER (PARTITION BY viewer_id ORDER BY ms DESC, genre) AS rn, ms
  FROM genre_ms
),
plays AS (
  SELECT viewer_id, count(*) AS plays,
         count_if(furthest IS NOT NULL AND duration_ms > 0 AND furthest * 10000 >= duration_ms * 9000) AS completed
  FROM (SELECT viewer_id, session_id, title_id, max(position_ms) AS furthest, max(duration_ms) AS duration_ms
        FROM w WHERE catalogued GROUP BY viewer_id, session_id, title_id) p
  GROUP BY viewer_id
),
devices AS (
  SELECT viewer_id, device_platform,
         row_number() OVER (PARTITION BY viewer_id ORDER BY sum(watched) DESC, device_platform) AS rn
  FROM w WHERE device_platform IS NOT NULL GROUP BY viewer_id, device_platform
),
dayparts AS (
  SELECT viewer_id, daypart,
         row_number() OVER (PARTITION BY viewer_id ORDER BY sum(watched) DESC, daypart) AS rn
  FROM (SELECT viewer_id, watched,
               CASE WHEN hour(event_time) < 6 THEN 'night' WHEN hour(event_time) < 12 THEN 'morning'
                    WHEN hour(event_time) < 18 THEN 'afternoon' ELSE 'evening' END AS daypart
        FROM w) d
  GROUP BY viewer_id, daypart
)
SELECT t.viewer_id, CAST(TIMESTAMP '{{as_of}} UTC' AS timestamp) AS as_of,
       g1.genre AS genre_1, g1.bp AS genre_1_bp, g2.genre AS genre_2, g2.bp AS genre_2_bp,
       g3.genre AS genre_3, g3.bp AS genre_3_bp,
       coalesce(p.plays, 0) AS plays,
       CASE WHEN p.plays > 0 THEN CAST(floor(p.completed * 10000 / p.plays) AS bigint) END AS completion_bp,
       d.device_platform AS preferred_device, dp.daypart AS preferred_daypart,
       t.active_days, t.watched_ms
FROM totals t
LEFT JOIN genres g1 ON g1.viewer_id = t.viewer_id AND g1.rn = 1 AND g1.ms > 0
LEFT JOIN genres g2 ON g2.viewer_id = t.viewer_id AND g2.rn = 2 AND g2.ms > 0
LEFT JOIN genres g3 ON g3.viewer_id = t.viewer_id AND g3.rn = 3 AND g3.ms > 0
LEFT JOIN plays p ON p.viewer_id = t.viewer_id
LEFT JOIN devices d ON d.viewer_id = t.viewer_id AND d.rn = 1
LEFT JOIN dayparts dp ON dp.viewer_id = t.viewer_id AND dp.rn = 1
ORDER BY t.viewer_id
