-- The training build's input for one day of arrivals: the canonical rows that
-- arrived in [{{day_start}}, {{day_end}}) (UTC, 'YYYY-MM-DD HH:MM:SS.fff'),
-- with the viewer's bucket (a stable hash of viewer_id mod {{buckets}}; at
-- most 100: Athena writes at most 100 partitions per query). The Lambda
-- UNLOADs it partitioned by bucket (functions/long-horizon-features).
-- The event_time bound (5 min: the contract's future skew) prunes later day
-- partitions; Iceberg file statistics on ingest_time prune older files.
SELECT event_id, event_type, event_time, viewer_id, session_id, title_id, region,
       watched_ms, stalled_ms, bitrate_kbps, position_ms, device_platform, app_version,
       error_code, startup_ms, schema_version, ingest_time, ingest_shard, ingest_seq, ingest_sub,
       bitwise_and(from_big_endian_64(xxhash64(to_utf8(viewer_id))), 9223372036854775807) % {{buckets}} AS bucket
FROM playback.events_canonical
WHERE ingest_time >= TIMESTAMP '{{day_start}} UTC'
  AND ingest_time < TIMESTAMP '{{day_end}} UTC'
  AND event_time < TIMESTAMP '{{day_end}} UTC' + INTERVAL '5' MINUTE
