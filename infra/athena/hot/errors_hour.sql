-- Hot tier rollup playback.hot_errors_hour: player error events per event hour x
-- app_version x device_platform x error_code, recent days, added incrementally
-- exactly once (the rule: title_region_hour.sql). Missing slices are 'unknown' /
-- 'none' so the merge keys are never NULL.
MERGE INTO playback.hot_errors_hour AS t
USING (
-- selection:begin
SELECT
  date_trunc('hour', event_time) AS event_hour,
  coalesce(app_version, 'unknown') AS app_version,
  coalesce(device_platform, 'unknown') AS device_platform,
  coalesce(error_code, 'none') AS error_code,
  count(*) AS error_events,
  max(ingest_time) AS max_ingest_time
FROM playback.events_canonical
WHERE event_time >= CAST('{{hot_from}}' AS TIMESTAMP)
  AND ingest_time > CAST('{{since}}' AS TIMESTAMP)
  AND event_type = 'error'
GROUP BY date_trunc('hour', event_time), coalesce(app_version, 'unknown'),
  coalesce(device_platform, 'unknown'), coalesce(error_code, 'none')
-- selection:end
) AS s
ON t.event_hour = s.event_hour AND t.app_version = s.app_version
  AND t.device_platform = s.device_platform AND t.error_code = s.error_code
WHEN MATCHED THEN UPDATE SET
  error_events = t.error_events + s.error_events,
  max_ingest_time = greatest(t.max_ingest_time, s.max_ingest_time)
WHEN NOT MATCHED THEN INSERT (event_hour, app_version, device_platform, error_code, error_events, max_ingest_time)
  VALUES (s.event_hour, s.app_version, s.device_platform, s.error_code, s.error_events, s.max_ingest_time)
