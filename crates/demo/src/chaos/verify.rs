//! After the run: each path against the manifest and a clean recomputation.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use local_pipeline::{Resources, Topology};

use super::ChaosReport;
use testkit::inspect;

use crate::report;

pub(super) async fn verify(
    aws: &aws_config::SdkConfig,
    t: &Topology,
    r: &Resources,
    m: &loadgen::Manifest,
    out: &mut ChaosReport,
) -> Result<()> {
    let s3 = playback_aws::s3_client(aws);
    let files = inspect::lake_files(&s3, &r.lake_bucket, &t.lake.prefix).await?;
    let rows: Vec<_> = files.into_iter().flat_map(|f| f.rows).collect();
    let landed: BTreeSet<&str> = rows.iter().map(|r| r.event_id.as_str()).collect();
    let valid = m.distinct_valid_event_ids();
    out.valid_events = valid.len();
    out.lost = valid.difference(&landed).count();

    let day = chrono::DateTime::from_timestamp_millis(m.config.start_time_ms)
        .unwrap_or_default()
        .date_naive();
    // The close reads the canonical table: feed it everything landed first.
    crate::canonical::job(&r.lake_bucket, &t.lake.prefix)?;
    let close = report::close_day(aws, t, r, day).await?;
    let paid_ms: i64 = close.report.rows.iter().map(|r| r.watched_ms).sum();
    out.royalty_events_paid = close.report.rows.iter().map(|r| r.events).sum();
    // Copies of an event_id are re-sends of the same line: the first stands.
    let expected_events = m
        .distinct_valid()
        .filter(|l| l.watched_ms.is_some_and(|w| w >= 0))
        .filter(|l| {
            chrono::DateTime::from_timestamp_millis(l.event_time_ms)
                .is_some_and(|t| t.date_naive() <= day)
        })
        .count() as i64;
    out.royalty_double_counted = (out.royalty_events_paid - expected_events).max(0);
    let expected_min = m.minutes_through(&day.to_string());
    out.royalty_minutes_off = paid_ms as f64 / 60_000.0 - expected_min;

    let sqs = aws_sdk_sqs::Client::new(aws);
    let letters = inspect::dead_letters(&inspect::drain_queue(&sqs, &r.poison_dlq_url).await?);
    out.dlq_expected = m.malformed_lines() as usize;
    for consumer in ["qoe-alerts", "session-features"] {
        let mine: Vec<_> = letters.iter().filter(|l| l.consumer == consumer).collect();
        let distinct: BTreeSet<&str> = mine.iter().map(|l| l.source.as_str()).collect();
        if !mine.is_empty() {
            out.dlq
                .insert(consumer.into(), (distinct.len(), mine.len()));
        }
    }

    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    let alerts = inspect::alerts(&dynamo, &r.alerts_table).await?;
    let keys: BTreeSet<_> = alerts
        .iter()
        .map(|a| (&a.title_id, &a.region, a.window_start_ms))
        .collect();
    out.alerts = alerts.len();
    out.duplicate_alerts = alerts.len() - keys.len();
    let inc = &m.config.incident;
    out.incident_alerted = inc.as_ref().is_some_and(|i| {
        alerts
            .iter()
            .any(|a| a.title_id == i.title_id && a.region == i.region)
    });

    // A clean run from the lake (the backfill: the same fold and window code).
    let events = backfill::rows_to_events(&rows)?;
    let width = t.consumer("qoe-alerts")?.tumbling_window_s.unwrap_or(10) as i64 * 1_000;
    let clean: BTreeMap<_, _> =
        backfill::recompute_windows(&events, width, &backfill::windows::default_rule())
            .into_iter()
            .map(|w| {
                (
                    (w.title_id, w.region, w.window.start_ms),
                    (w.totals.watched_ms, w.totals.stalled_ms),
                )
            })
            .collect();
    let stored: BTreeMap<_, _> = inspect::windows(&dynamo, &r.windows_table)
        .await?
        .into_iter()
        .map(|w| {
            (
                (w.title_id, w.region, w.window_start_ms),
                (w.watched_ms, w.stalled_ms),
            )
        })
        .collect();
    out.window_totals_off = clean
        .keys()
        .chain(stored.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| clean.get(*k) != stored.get(*k))
        .count();
    let folded = backfill::fold_viewers(&events);
    let store = playback_aws::features_store::DynamoFeatureStore::new(dynamo, &r.features_table, 0);
    let ids: Vec<String> = folded.keys().cloned().collect();
    let mut have = BTreeMap::new();
    for chunk in ids.chunks(100) {
        use playback_domain::ports::FeatureStore;
        have.extend(store.load(chunk).await?);
    }
    out.features_off = folded
        .iter()
        .filter(|(id, f)| have.get(*id) != Some(*f))
        .count();
    Ok(())
}
