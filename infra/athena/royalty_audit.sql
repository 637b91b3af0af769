-- Royalty audit: event_ids paid by more than one close (must return no rows),
-- with the closes that paid them. Scans the whole ledger (event_id, close_id).
SELECT
  event_id,
  count(*) AS times_paid,
  array_join(array_agg(close_id ORDER BY close_id), ',') AS close_ids
FROM playback.royalty_ledger
GROUP BY event_id
HAVING count(*) > 1
ORDER BY event_id
