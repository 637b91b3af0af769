-- SRE outage rates per region x device platform x app version and event
-- minute, last 2 event days (today and yesterday): the definitions of playback_domain::sre,
-- so a page from sre-buffer can be checked against the exact lake.
--   playback_failure_rate  = fatal errors / attempts (session_start)
--   video_start_failure_rate = start-failure errors / attempts
--   rebuffer_starts_per_session_minute = rebuffer_start / heartbeat minutes
-- The two code lists are FATAL_ERROR_CODES and START_FAILURE_CODES (a test
-- keeps them equal). Only slice-minutes with the rule's minimum sample
-- (pipeline.json sre.min_attempts, sre.min_session_minutes) are listed.
WITH minutes AS (
  SELECT
    region,
    coalesce(device_platform, 'unknown') AS device_platform,
    coalesce(app_version, 'unknown') AS app_version,
    date_trunc('minute', event_time) AS event_minute,
    count_if(event_type = 'session_start') AS attempts,
    count_if(event_type = 'error' AND error_code IN ('DRM_LICENSE', 'DRM_LICENSE_FAILED', 'DECODER_ERROR', 'MANIFEST_404', 'VIDEO_START_FAILED')) AS fatal_errors,
    count_if(event_type = 'error' AND error_code IN ('DRM_LICENSE', 'DRM_LICENSE_FAILED', 'MANIFEST_404', 'VIDEO_START_FAILED')) AS start_failures,
    count_if(event_type = 'rebuffer_start') AS rebuffer_starts,
    sum(CASE WHEN event_type = 'heartbeat'
      THEN greatest(coalesce(watched_ms, 0), 0) + greatest(coalesce(stalled_ms, 0), 0)
      ELSE 0 END) AS session_ms
  FROM playback.events_canonical
  WHERE event_time >= CAST(current_date - INTERVAL '1' DAY AS TIMESTAMP)
  GROUP BY 1, 2, 3, 4
)
SELECT
  region,
  device_platform,
  app_version,
  event_minute,
  attempts,
  fatal_errors,
  start_failures,
  rebuffer_starts,
  session_ms,
  CASE WHEN attempts = 0 THEN NULL ELSE CAST(fatal_errors AS DOUBLE) / attempts END AS playback_failure_rate,
  CASE WHEN attempts = 0 THEN NULL ELSE CAST(start_failures AS DOUBLE) / attempts END AS video_start_failure_rate,
  CASE WHEN session_ms = 0 THEN NULL ELSE rebuffer_starts / (session_ms / 60000.0) END AS rebuffer_starts_per_session_minute
FROM minutes
WHERE attempts >= 20 OR session_ms >= 20 * 60000
ORDER BY playback_failure_rate DESC NULLS LAST, event_minute, region, device_platform, app_version
