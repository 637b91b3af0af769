-- Royalty report of close {{close_date}}: minutes per title and event day paid
-- by that close, aggregated from its ledger partition (so report and ledger
-- cannot disagree). minutes = watched_ms / 60000; the job renders it with 3
-- decimals, rounded half up, from the exact integer watched_ms.
SELECT
  title_id,
  CAST(event_day AS VARCHAR) AS event_day,
  sum(watched_ms) AS watched_ms,
  count(*) AS events
FROM playback.royalty_ledger
WHERE close_id = '{{close_date}}'
GROUP BY title_id, event_day
ORDER BY event_day, title_id
