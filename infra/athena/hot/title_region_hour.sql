-- Hot tier rollup playback.hot_title_region_hour: events, watched and stalled ms
-- per event hour x title x region, for the recent days ({{hot_from}} on). Kept by
-- the canonical job after each canonical commit (scripts/hot_tier.py locally,
-- functions/canonical-merge on AWS), over the hours touched by canonical rows that
-- arrived after the rollup's watermark ({{since}} = watermark.sql: the latest
-- arrival the rollup reflects, kept in its rows): every such hour is recomputed
-- whole from the canonical table, so a refresh is idempotent (a crash before or
-- after its commit only means recomputing) and a late event corrects its hour.
-- Canonical rows never arrive below the canonical watermark, so no row with
-- ingest_time <= {{since}} can be missing from the rollup. Answers: minutes per
-- title, rebuffering per title x region x hour (infra/athena/hot_*.sql).
MERGE INTO playback.hot_title_region_hour AS t
USING (
-- selection:begin
SELECT
  date_trunc('hour', event_time) AS event_hour,
  title_id,
  region,
  count(*) AS events,
  sum(coalesce(watched_ms, 0)) AS watched_ms,
  sum(coalesce(stalled_ms, 0)) AS stalled_ms,
  max(ingest_time) AS max_ingest_time
FROM playback.events_canonical
WHERE event_time >= CAST('{{hot_from}}' AS TIMESTAMP)
  AND date_trunc('hour', event_time) IN (
    SELECT DISTINCT date_trunc('hour', event_time)
    FROM playback.events_canonical
    WHERE ingest_time > CAST('{{since}}' AS TIMESTAMP)
      AND event_time >= CAST('{{hot_from}}' AS TIMESTAMP)
  )
GROUP BY date_trunc('hour', event_time), title_id, region
-- selection:end
) AS s
ON t.event_hour = s.event_hour AND t.title_id = s.title_id AND t.region = s.region
WHEN MATCHED THEN UPDATE SET events = s.events, watched_ms = s.watched_ms, stalled_ms = s.stalled_ms,
  max_ingest_time = s.max_ingest_time
WHEN NOT MATCHED THEN INSERT (event_hour, title_id, region, events, watched_ms, stalled_ms, max_ingest_time)
  VALUES (s.event_hour, s.title_id, s.region, s.events, s.watched_ms, s.stalled_ms, s.max_ingest_time)
