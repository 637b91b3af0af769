-- Feed the canonical Iceberg table playback.events_canonical from the raw log:
-- one row per event_id, the winning copy's columns and arrival.
--   window: raw rows that arrived in ({{watermark}}, {{horizon}}] (UTC); dt/hour
--           are the arrival day/hour of ingest_time, so older partitions are pruned
--           ({{dt_from}}, {{hour_from}} = the watermark's day and hour)
--   winner: earliest ingest_time, then ingest_shard, then ingest_seq as a number
--           (length, then digits), then ingest_sub, then content: the royalty
--           close's rule (crates/royalty/src/order.rs)
--   insert: only event_ids the table lacks (WHEN NOT MATCHED) among the event
--           days the window touches ({{target_days}}; the local job's anti-join
--           is on the same days)
-- Why insert-if-absent over arrival windows equals the batch winner over all raw
-- rows: the winner key starts with ingest_time, so any copy in a later window
-- (ingest_time > watermark) ranks after every copy already committed (ingest_time
-- <= watermark). The first window holding a copy of an event_id therefore holds
-- its batch winner, provided every row with ingest_time <= horizon had landed when
-- the window was read: the horizon trails the clock by the landing delay (the job's
-- settle time, > Firehose's buffer). Later copies, redeliveries and late events
-- (old event_time, new ingest_time) can then only be absent-or-equal, never better.
-- scripts/canonical.py runs the selection between the markers on DuckDB (the
-- local lake) and does the NOT MATCHED insert with pyiceberg (anti-join on the
-- event days touched); on AWS, Athena runs the whole statement.
MERGE INTO playback.events_canonical AS t
USING (
-- selection:begin
SELECT
  event_id, event_type, event_time, viewer_id, session_id, title_id, region,
  watched_ms, stalled_ms, bitrate_kbps, position_ms, device_platform, app_version,
  error_code, startup_ms, schema_version, ingest_time, ingest_shard, ingest_seq, ingest_sub
FROM (
  SELECT
    e.*,
    row_number() OVER (
      PARTITION BY event_id
      ORDER BY ingest_time, ingest_shard, length(ingest_seq), ingest_seq, ingest_sub,
        title_id, watched_ms, event_time
    ) AS copy_rank
  FROM playback.events AS e
  WHERE dt >= '{{dt_from}}'
    AND (dt > '{{dt_from}}' OR hour >= '{{hour_from}}')
    AND ingest_time > CAST('{{watermark}}' AS TIMESTAMP)
    AND ingest_time <= CAST('{{horizon}}' AS TIMESTAMP)
    AND coalesce(event_id, '') <> ''
) AS copies
WHERE copy_rank = 1
-- selection:end
) AS s
ON t.event_id = s.event_id
  -- the target restricted to the event days the window touches (Athena prunes
  -- the table's day(event_time) partitions): {{target_days}} is an OR of
  -- [day, day + 1) ranges on t.event_time (functions/canonical-merge)
  AND ({{target_days}})
WHEN NOT MATCHED THEN INSERT (
  event_id, event_type, event_time, viewer_id, session_id, title_id, region,
  watched_ms, stalled_ms, bitrate_kbps, position_ms, device_platform, app_version,
  error_code, startup_ms, schema_version, ingest_time, ingest_shard, ingest_seq, ingest_sub
) VALUES (
  s.event_id, s.event_type, s.event_time, s.viewer_id, s.session_id, s.title_id, s.region,
  s.watched_ms, s.stalled_ms, s.bitrate_kbps, s.position_ms, s.device_platform, s.app_version,
  s.error_code, s.startup_ms, s.schema_version, s.ingest_time, s.ingest_shard, s.ingest_seq, s.ingest_sub
)
