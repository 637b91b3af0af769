-- The hot tier's rollup tables (Iceberg, partitioned by event day). One statement
-- per table, separated by a line holding only ';': functions/canonical-merge runs
-- each (CREATE ... IF NOT EXISTS); scripts/hot_tier.py creates the same columns
-- with pyiceberg (a test keeps them equal). max_ingest_time is the latest
-- canonical arrival a row reflects: max over the table is the rollup's watermark,
-- committed with the rows themselves (watermark.sql).
CREATE TABLE IF NOT EXISTS playback.hot_title_region_hour (
  event_hour timestamp,
  title_id string,
  region string,
  events bigint,
  watched_ms bigint,
  stalled_ms bigint,
  max_ingest_time timestamp
)
PARTITIONED BY (day(event_hour))
LOCATION 's3://{{bucket}}/{{hot_prefix}}title_region_hour/'
TBLPROPERTIES ('table_type' = 'ICEBERG', 'format' = 'parquet', 'write_compression' = 'zstd')
;
CREATE TABLE IF NOT EXISTS playback.hot_viewer_sessions_hour (
  event_hour timestamp,
  viewer_id string,
  session_id string,
  max_ingest_time timestamp
)
PARTITIONED BY (day(event_hour))
LOCATION 's3://{{bucket}}/{{hot_prefix}}viewer_sessions_hour/'
TBLPROPERTIES ('table_type' = 'ICEBERG', 'format' = 'parquet', 'write_compression' = 'zstd')
;
CREATE TABLE IF NOT EXISTS playback.hot_errors_hour (
  event_hour timestamp,
  app_version string,
  device_platform string,
  error_code string,
  error_events bigint,
  max_ingest_time timestamp
)
PARTITIONED BY (day(event_hour))
LOCATION 's3://{{bucket}}/{{hot_prefix}}errors_hour/'
TBLPROPERTIES ('table_type' = 'ICEBERG', 'format' = 'parquet', 'write_compression' = 'zstd')
