-- The canonical table's current snapshot: the one a royalty close reads (by
-- time travel, FOR VERSION AS OF) and records in its close.json, so a re-run or
-- an auditor reads exactly the same rows. Athena's Iceberg metadata table
-- "<table>$snapshots"; locally scripts/lake_query.py serves the same view.
SELECT CAST(snapshot_id AS VARCHAR) AS snapshot_id
FROM playback."events_canonical$snapshots"
ORDER BY committed_at DESC, snapshot_id DESC
LIMIT 1
