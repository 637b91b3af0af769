//! RESULTS.md section of the Parquet landing (crate::lake_landing).

use std::fmt::Write as _;

use super::numbers::{f0, mb};
use super::Results;

/// One simulated hour through the Firehose emulator: rows/s and bytes per row.
pub(super) fn lake(s: &mut String, r: &Results) {
    let _ = writeln!(
        s,
        "## Parquet landing (one simulated hour of the demo scenario)\n"
    );
    match (&r.lake, &r.lake_error) {
        (Some(l), _) => {
            let _ = writeln!(
                s,
                "{} events in {} records ({:.2} events/record with per-viewer packing), {} of \
                 NDJSON payload, through `local_pipeline::FirehoseEmulator` (buffering as deployed: 64 MiB / 300 s, \
                 dynamic partitioning by arrival dt/hour) into a `MemoryStore`.\n",
                f0(l.events as f64),
                f0(l.records as f64),
                l.events_per_record,
                mb(l.payload_bytes as u64)
            );
            let _ = writeln!(s, "| | |\n|---|---|");
            let _ = writeln!(
                s,
                "| Landing throughput (emulator: de-aggregation + transform + conversion + Parquet) | **{} rows/s** (median of {}; CPU {} rows/s) |",
                f0(l.landing.per_s()),
                l.landing.runs,
                f0(l.landing.per_cpu_s())
            );
            let _ = writeln!(
                s,
                "| Parquet encoding alone (`lake::write_rows`, all rows of the hour) | **{} rows/s** |",
                f0(l.parquet_write.per_s())
            );
            let _ = writeln!(
                s,
                "| Rows landed | {} (failed records: {}, error objects: {}, {} bytes) |",
                f0(l.rows_landed as f64),
                l.failed_records,
                l.error_files,
                l.error_bytes
            );
            let _ = writeln!(
                s,
                "| Lake objects | {} Parquet files, {} in all |",
                l.lake_files.len(),
                mb(l.parquet_bytes)
            );
            let _ = writeln!(
                s,
                "| Bytes per row | **{:.1} B** Parquet (snappy) vs {:.1} B of JSON payload per event ({:.1}x smaller) |",
                l.parquet_bytes_per_row,
                l.payload_bytes as f64 / l.events.max(1) as f64,
                (l.payload_bytes as f64 / l.events.max(1) as f64) / l.parquet_bytes_per_row.max(1e-9)
            );
            let _ = writeln!(
                s,
                "| Royalty close's 8 columns | {:.1} B/row (what Athena scans per row for the daily close) |\n",
                l.royalty_bytes_per_row
            );
            let _ = writeln!(
                s,
                "<details><summary>Files and per-column bytes/row</summary>\n"
            );
            let _ = writeln!(s, "| Object | Rows | Bytes |\n|---|---:|---:|");
            for f in &l.lake_files {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} |",
                    f.key,
                    f0(f.rows as f64),
                    f0(f.bytes as f64)
                );
            }
            let _ = writeln!(s, "\n| Column | bytes/row |\n|---|---:|");
            for (k, v) in &l.column_bytes_per_row {
                let _ = writeln!(s, "| {k} | {v:.2} |");
            }
            let _ = writeln!(s, "\n</details>\n");
        }
        (None, Some(e)) => {
            let _ = writeln!(s, "Not measured: {e}\n");
        }
        _ => {
            let _ = writeln!(s, "Skipped (`--skip-lake`).\n");
        }
    }
}
