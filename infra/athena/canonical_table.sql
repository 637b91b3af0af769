-- The canonical Iceberg table: one row per event_id (the winning copy), fed by
-- canonical_merge.sql (functions/canonical-merge on AWS, scripts/canonical.py
-- locally). Columns: events/lake-columns.json (a test keeps them equal).
-- Snapshots are kept 35 days (vacuum_max_snapshot_age_seconds = 3024000) so a
-- royalty re-run or audit can time-travel to the snapshot its close recorded.
CREATE TABLE IF NOT EXISTS playback.events_canonical (
  event_id string,
  event_type string,
  event_time timestamp,
  viewer_id string,
  session_id string,
  title_id string,
  region string,
  watched_ms bigint,
  stalled_ms bigint,
  bitrate_kbps bigint,
  position_ms bigint,
  device_platform string,
  app_version string,
  error_code string,
  startup_ms bigint,
  schema_version int,
  ingest_time timestamp,
  ingest_shard string,
  ingest_seq string,
  ingest_sub int
)
PARTITIONED BY (day(event_time))
LOCATION 's3://{{bucket}}/{{canonical_prefix}}'
TBLPROPERTIES (
  'table_type' = 'ICEBERG',
  'format' = 'parquet',
  'write_compression' = 'zstd',
  'vacuum_max_snapshot_age_seconds' = '{{snapshot_age_s}}',
  'vacuum_min_snapshots_to_keep' = '1'
)
