-- Schema evolution of the canonical Iceberg table: add the columns that
-- events/lake-columns.json (canonical_table.sql) has and the table lacks,
-- e.g. startup_ms (contract schema_version 2):
--   ALTER TABLE playback.events_canonical ADD COLUMNS (startup_ms bigint)
-- An Iceberg metadata change only: no data file is rewritten; rows written
-- before read the new columns as NULL, and time travel to an older snapshot
-- still sees that snapshot's columns. functions/canonical-merge runs it in its
-- ensure-table step, {{columns}} = `name type, ...` of the missing columns.
ALTER TABLE playback.events_canonical ADD COLUMNS ({{columns}})
