-- DDL of the royalty ledger table (Athena only; the royalty-close job runs it
-- before each close, it is a no-op once the table exists). One partition per
-- close (close_id = the closed UTC day), written by UNLOAD; partition
-- projection finds new partitions without MSCK REPAIR or Glue writes.
CREATE EXTERNAL TABLE IF NOT EXISTS playback.royalty_ledger (
  event_id string,
  event_day date,
  title_id string,
  watched_ms bigint
)
PARTITIONED BY (close_id string)
STORED AS PARQUET
LOCATION '{{ledger_location}}'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.close_id.type' = 'date',
  'projection.close_id.format' = 'yyyy-MM-dd',
  'projection.close_id.range' = '2020-01-01,NOW',
  'projection.close_id.interval' = '1',
  'projection.close_id.interval.unit' = 'DAYS',
  'storage.location.template' = '{{ledger_location}}close_id=${close_id}/',
  'parquet.compression' = 'SNAPPY'
)
