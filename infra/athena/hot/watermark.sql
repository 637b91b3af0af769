-- A hot-tier rollup's watermark: the latest canonical arrival its rows reflect
-- (the rollup: hot_title_region_hour, hot_viewer_sessions_hour or hot_errors_hour).
-- Text at full precision: a watermark rounded down would add rows twice.
-- Empty rollup: the epoch, so the first refresh covers every recent hour.
SELECT CAST(coalesce(max(max_ingest_time), CAST('1970-01-01 00:00:00' AS TIMESTAMP)) AS varchar) AS watermark
FROM playback.{{rollup}}
