//! The run's figures on stdout, in short, for whoever ran `make bench`.

use super::Results;

pub fn print_summary(r: &Results) {
    let m = &r.machine;
    println!(
        "\n{}  {} x {}  load {:.2}/{:.2}/{:.2} -> {:.2}/{:.2}/{:.2}",
        m.date_utc,
        m.nproc,
        m.cpu_model,
        m.load_start[0],
        m.load_start[1],
        m.load_start[2],
        m.load_end[0],
        m.load_end[1],
        m.load_end[2]
    );
    println!(
        "\n{:<52} {:>14} {:>14} {:>10}",
        "handler (10 000 events, one core)", "events/s", "CPU events/s", "ns/event"
    );
    for h in &r.handlers {
        println!(
            "{:<52} {:>14.0} {:>14.0} {:>10.0}",
            h.name,
            h.stats.per_s(),
            h.stats.per_cpu_s(),
            h.stats.ns_per_unit()
        );
    }
    for h in &r.edge {
        println!(
            "{:<52} {:>14.0} {:>14.0} {:>10.0}  (per request)",
            h.name,
            h.stats.per_s(),
            h.stats.per_cpu_s(),
            h.stats.ns_per_unit()
        );
    }
    println!("\nwrites per batch");
    for (name, w) in &r.writes {
        println!(
            "  {name}: {} batches, feature saves {} / distinct viewers {}, window flushes {} / title x region x window {}",
            w.batches, w.feature_writes, w.distinct_viewers, w.window_writes, w.title_region_windows
        );
    }
    if let Some(l) = &r.lake {
        println!(
            "\nlake: {} rows landed, {:.0} rows/s landing, {:.0} rows/s Parquet encode, {:.1} B/row ({} files, {} B), {:.2} events/record",
            l.rows_landed,
            l.landing.per_s(),
            l.parquet_write.per_s(),
            l.parquet_bytes_per_row,
            l.lake_files.len(),
            l.parquet_bytes,
            l.events_per_record
        );
    }
    if let Some(e) = &r.lake_error {
        println!("\nlake: not measured: {e}");
    }
    println!();
    for z in &r.zips {
        println!(
            "zip {:<20} {:>10} B  (built {})",
            z.function, z.bytes, z.modified_utc
        );
    }
    for i in &r.init {
        println!(
            "init {:<19} {:>7.2} ms median (min {:.2}, max {:.2}); exit without runtime API {:.2} ms",
            i.function, i.to_first_poll_ms[0], i.to_first_poll_ms[1], i.to_first_poll_ms[2], i.to_exit_without_api_ms
        );
    }
    for e in &r.init_errors {
        println!("init not measured: {e}");
    }
}
