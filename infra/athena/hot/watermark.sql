-- A hot-tier rollup's watermark: the latest canonical arrival its rows reflect
-- ({{rollup}} = hot_title_region_hour, hot_viewers_hour or hot_errors_hour).
-- Empty rollup: the epoch, so the first refresh covers every recent hour.
SELECT coalesce(max(max_ingest_time), CAST('1970-01-01 00:00:00' AS TIMESTAMP)) AS watermark
FROM playback.{{rollup}}
