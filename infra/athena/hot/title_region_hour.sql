-- Hot tier rollup playback.hot_title_region_hour: events, watched and stalled ms
-- per event hour x title x region, for the recent days ({{hot_from}} on), kept
-- incrementally by the canonical job after each canonical commit
-- (functions/canonical-merge on Athena; scripts/hot_tier.py runs this same MERGE
-- on DuckDB and commits its result to the local Iceberg table).
-- Exactly once: {{since}} is the rollup's watermark (watermark.sql: the latest
-- canonical arrival its rows reflect, max(max_ingest_time)), committed with the
-- sums in the same MERGE. The canonical table commits whole arrival windows in
-- order, so every canonical row with ingest_time <= {{since}} is already
-- counted, and each row arriving after it is added exactly once. A re-run after
-- a crash reads the committed watermark: before the commit it adds the same
-- rows, after it nothing. Reads only the new rows (Iceberg min/max stats on
-- ingest_time prune the older files). Answers: minutes per title, rebuffering
-- per title x region x hour (infra/athena/hot_*.sql).
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
  AND ingest_time > CAST('{{since}}' AS TIMESTAMP)
GROUP BY date_trunc('hour', event_time), title_id, region
-- selection:end
) AS s
ON t.event_hour = s.event_hour AND t.title_id = s.title_id AND t.region = s.region
WHEN MATCHED THEN UPDATE SET
  events = t.events + s.events,
  watched_ms = t.watched_ms + s.watched_ms,
  stalled_ms = t.stalled_ms + s.stalled_ms,
  max_ingest_time = greatest(t.max_ingest_time, s.max_ingest_time)
WHEN NOT MATCHED THEN INSERT (event_hour, title_id, region, events, watched_ms, stalled_ms, max_ingest_time)
  VALUES (s.event_hour, s.title_id, s.region, s.events, s.watched_ms, s.stalled_ms, s.max_ingest_time)
