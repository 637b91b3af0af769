//! The canonical Iceberg table's job (functions/canonical-merge) and the hot
//! tier: Athena bytes per run, S3 requests and storage, and the common
//! questions answered from the hot tier instead of the table.
//!
//! Per merge run (every `merge_every_minutes`, infra/pipeline.json):
//! - watermark: the ingest_time column of the last 4 windows' arrivals;
//! - event days + MERGE source: the window's raw rows, every column, twice;
//! - MERGE target: the event_id column of the event days the window touches
//!   (`canonical_days_touched`: today, yesterday and the late events' days);
//! - hot tier: per rollup a watermark over the rollup (10 MB minimum) and a
//!   MERGE reading the window's new canonical rows (Iceberg ingest_time stats
//!   prune older files) and the rollup's keys.
//!
//! Each Athena query bills at least 10 MB; DDL is free.

use crate::billing::{DAYS_PER_MONTH, GB, MIB, TB};
use crate::estimate::{Bill, Mode};
use crate::measured::Measured;
use crate::params::Params;
use crate::prices::p;
use crate::sizing::Stream;

const MIN_QUERY: f64 = 10.0 * MIB;
const HOT_ROLLUPS: f64 = 3.0;
const HOT_DAYS: f64 = 7.0;

fn athena_bytes(b: f64) -> f64 {
    b.max(MIN_QUERY)
}

/// Rows of the hot rollups over the hot window: (title x region x hour
/// groups, viewer-session-hours, error slices x hours).
pub fn hot_rows(pm: &Params) -> (f64, f64, f64) {
    let hours = HOT_DAYS * 24.0;
    let groups = (pm.titles * pm.regions).min(pm.events_per_day / 24.0) * hours;
    // Watching-hours per day: events / (events per viewer-minute x 60); a
    // session straddles ~1.5 hour boundaries on average.
    let session_hours = pm.events_per_day / (pm.events_per_viewer_minute * 60.0) * 1.5 * HOT_DAYS;
    let error_slices = 500.0 * hours;
    (groups, session_hours, error_slices)
}

pub(crate) fn lines(pm: &Params, m: &Measured, s: &Stream, bill: &mut Bill) {
    let topo = playback_topology::Topology::deployed();
    let c = &topo.canonical;
    let e_day = s.events_per_day;
    let runs_day = 1440.0 / f64::from(c.merge_every_minutes.max(1));
    let window_rows = e_day / runs_day;

    // The recent arrivals only (4 merge intervals; Iceberg's file bounds on
    // ingest_time prune the rest); the whole lookback only after a stall.
    let watermark = athena_bytes(4.0 * window_rows * pm.timestamp_bytes_per_row);
    let source = 2.0 * athena_bytes(window_rows * m.parquet_bytes_per_row);
    let target = pm.canonical_days_touched * e_day * m.event_id_bytes_per_row;
    let merge_tb = (watermark + source + target) * runs_day * DAYS_PER_MONTH / TB;
    bill.line(
        "Athena",
        format!(
            "canonical MERGE: {runs_day:.0} runs/day x ({:.1} GB target event_id over {} days + {:.2} GB window + {:.1} GB watermark)",
            target / GB,
            pm.canonical_days_touched,
            source / GB,
            watermark / GB
        ),
        merge_tb,
        "TB",
        merge_tb * p("athena.tb"),
        Mode::Both,
    );

    let (groups, session_hours, error_rows) = hot_rows(pm);
    let hot_target = groups * 40.0 + session_hours * 30.0 + error_rows * 40.0;
    let new_rows = window_rows * m.parquet_bytes_per_row * 0.5; // the rollups' columns
    let hot_run = HOT_ROLLUPS * (MIN_QUERY + athena_bytes(new_rows)) + hot_target;
    let hot_tb = hot_run * runs_day * DAYS_PER_MONTH / TB;
    bill.line(
        "Athena",
        format!(
            "hot tier refresh: {runs_day:.0} runs/day x 3 rollups (new rows + {:.2} GB of rollup keys)",
            hot_target / GB
        ),
        hot_tb,
        "TB",
        hot_tb * p("athena.tb"),
        Mode::Both,
    );
    // OPTIMIZE rewrites `optimize_days` days of the table once a day (reads
    // and writes them); VACUUM reads metadata only.
    let optimize_tb =
        f64::from(c.optimize_days) * e_day * m.parquet_bytes_per_row * DAYS_PER_MONTH / TB;
    bill.line(
        "Athena",
        format!(
            "canonical OPTIMIZE (bin-pack {} days, daily)",
            c.optimize_days
        ),
        optimize_tb,
        "TB",
        optimize_tb * p("athena.tb"),
        Mode::Both,
    );

    // The common questions (minutes per title, rebuffering, viewers, errors
    // over 7 days) from the hot tier; the same on the canonical table would read
    // ~3 columns (~`hot_question_bytes_per_row`) of 7 days of events.
    let q_month = pm.hot_queries_per_day * DAYS_PER_MONTH;
    let hot_q_tb = q_month * athena_bytes(hot_target / HOT_ROLLUPS) / TB;
    let canon_q_tb = q_month * HOT_DAYS * e_day * pm.hot_question_bytes_per_row / TB;
    bill.line(
        "Athena",
        format!(
            "common 7-day questions on the hot tier: {} queries/day (on the canonical table: ${:.0}/mo)",
            pm.hot_queries_per_day,
            canon_q_tb * p("athena.tb")
        ),
        hot_q_tb,
        "TB",
        hot_q_tb * p("athena.tb"),
        Mode::Both,
    );

    // Storage: the canonical table holds each event once (~ the raw row, zstd),
    // under the bucket's tiering like the raw log; the hot tier stays Standard.
    let canon_gb_day = e_day * m.parquet_bytes_per_row / GB;
    let a = pm.lake_age_days;
    let (std_d, ia_d, gir_d) = (
        a.min(30.0),
        (a - 30.0).clamp(0.0, 60.0),
        (a - 90.0).max(0.0),
    );
    let usd = canon_gb_day
        * (std_d * p("s3.standard_gb_month")
            + ia_d * p("s3.ia_gb_month")
            + gir_d * p("s3.gir_gb_month"));
    bill.line(
        "S3",
        format!("canonical table: {a:.0} days of events, tiered like the raw log"),
        canon_gb_day * a,
        "GB-mo",
        usd,
        Mode::Both,
    );
    let hot_gb = hot_target / GB;
    bill.line(
        "S3",
        "hot tier rollups (7 days, Standard)".into(),
        hot_gb,
        "GB-mo",
        hot_gb * p("s3.standard_gb_month"),
        Mode::Both,
    );
    // Each run writes data files per touched day and rollup plus metadata
    // (manifests, manifest list, metadata.json) and reads what it scans.
    let puts =
        runs_day * (2.0 * pm.canonical_days_touched + 4.0 * (1.0 + HOT_ROLLUPS)) * DAYS_PER_MONTH;
    let gets =
        (merge_tb + hot_tb + optimize_tb) * TB / (8.0 * MIB) + runs_day * 20.0 * DAYS_PER_MONTH;
    bill.line(
        "S3",
        "canonical + hot tier requests (PUT per file and metadata, GET per 8 MiB read)".into(),
        (puts + gets) / 1000.0,
        "k req",
        puts / 1000.0 * p("s3.put_k") + gets / 1000.0 * p("s3.get_k"),
        Mode::Both,
    );
}

#[cfg(test)]
mod tests {
    use crate::{estimate, Measured, Params};

    fn usd(pm: &Params, starts: &str) -> f64 {
        let e = estimate(pm, &Measured::default(), true);
        let found: Vec<f64> = e
            .lines
            .iter()
            .filter(|l| l.item.starts_with(starts))
            .map(|l| l.usd)
            .collect();
        assert_eq!(found.len(), 1, "{starts}");
        found[0]
    }

    #[test]
    fn the_merge_line_recomputes_by_hand() {
        let pm = Params::default();
        let m = Measured::default();
        let topo = playback_topology::Topology::deployed();
        let runs = 1440.0 / f64::from(topo.canonical.merge_every_minutes);
        let e = pm.events_per_day;
        let watermark = (4.0 * e / runs * pm.timestamp_bytes_per_row).max(10.0 * crate::MIB);
        let window = 2.0 * (e / runs * m.parquet_bytes_per_row).max(10.0 * crate::MIB);
        let target = pm.canonical_days_touched * e * m.event_id_bytes_per_row;
        let want = (watermark + window + target) * runs * crate::DAYS_PER_MONTH / crate::TB
            * crate::prices::p("athena.tb");
        let got = usd(&pm, "canonical MERGE");
        assert!((got - want).abs() < 1e-6 * want, "{got} vs {want}");
    }

    #[test]
    fn the_hot_tier_answers_for_a_fraction_of_the_canonical_scan() {
        let pm = Params::default();
        let e = estimate(&pm, &Measured::default(), true);
        let line = e
            .lines
            .iter()
            .find(|l| l.item.starts_with("common 7-day questions"))
            .expect("hot questions line");
        let canon = 200.0 * crate::DAYS_PER_MONTH * 7.0 * pm.events_per_day * 12.0 / crate::TB
            * crate::prices::p("athena.tb");
        assert!(
            line.item.contains(&format!("${canon:.0}/mo")),
            "{}",
            line.item
        );
        assert!(line.usd * 50.0 < canon, "{} vs {canon}", line.usd);
        // Twice the days a merge touches, about twice its target scan.
        let more = Params {
            canonical_days_touched: 6.0,
            ..Params::default()
        };
        assert!(usd(&more, "canonical MERGE") > 1.5 * usd(&pm, "canonical MERGE"));
    }
}
