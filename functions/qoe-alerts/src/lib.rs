//! qoe-alerts: rebuffering ratio per title x region in Lambda tumbling windows.
//!
//! Each invocation folds its records into the shard's window state (carried by
//! Lambda between invocations); the final invocation of a window flushes one
//! partial per title x region to the window store, reads back the combined
//! totals and raises at most one alert per title x region x window.

use playback_aws::emf::Metrics;
use playback_aws::fail_fast;
use playback_aws::kinesis_batch::{decode_batch, KinesisBatch, WindowResponse};
use playback_aws::AwsError;
use playback_domain::ports::{AlertSink, DeadLetters, PortError, Retry, WindowStore};
use playback_domain::qoe::{Alert, AlertRule, ShardWindow, Window, WindowTotals, STATE_KEY};
use playback_domain::Clock;

mod entry;

pub use entry::{build, App, AwsApp, Config};

pub const CONSUMER: &str = "qoe-alerts";

#[derive(Debug, thiserror::Error)]
pub enum QoeError {
    #[error(transparent)]
    Port(#[from] PortError),
    #[error(transparent)]
    State(#[from] AwsError),
    /// A missing or malformed setting: the function stops before its first event.
    #[error(transparent)]
    Config(AwsError),
    #[error(transparent)]
    Topology(#[from] playback_topology::TopologyError),
    /// The invocation's payload is not a Kinesis event.
    #[error("payload: {0}")]
    Payload(serde_json::Error),
}

impl QoeError {
    /// Unreadable carried state fails the same way on every retry.
    pub fn class(&self) -> Retry {
        match self {
            QoeError::Port(e) => e.class(),
            QoeError::State(_)
            | QoeError::Config(_)
            | QoeError::Topology(_)
            | QoeError::Payload(_) => Retry::NonRetriable,
        }
    }
}

pub struct QoeAlerts<W, A, D> {
    pub windows: W,
    pub alerts: A,
    pub dead_letters: D,
    pub rule: AlertRule,
    /// Where its EMF metrics go (stdout in Lambda).
    pub metrics: Metrics,
}

/// What a final invocation did, for logs, metrics and tests.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FlushReport {
    pub groups_flushed: usize,
    pub alerts_raised: Vec<Alert>,
}

impl<W: WindowStore, A: AlertSink, D: DeadLetters> QoeAlerts<W, A, D> {
    /// Every error fails the invocation (Lambda retries it with the previous
    /// state); a non-retriable one is also logged and counted for the alarm.
    pub async fn handle(
        &self,
        event: &KinesisBatch,
        clock: Clock,
    ) -> Result<(WindowResponse, FlushReport), QoeError> {
        let result = self.run(event, clock).await;
        if let Err(e) = &result {
            if e.class() == Retry::NonRetriable {
                fail_fast::report(&self.metrics, CONSUMER, e.class(), e);
            }
        }
        result
    }

    async fn run(
        &self,
        event: &KinesisBatch,
        clock: Clock,
    ) -> Result<(WindowResponse, FlushReport), QoeError> {
        let mut window = match event.state.get(STATE_KEY) {
            Some(s) => ShardWindow::from_state(s).map_err(|e| AwsError::BadState(e.to_string()))?,
            None => ShardWindow::default(),
        };
        let batch = decode_batch(event, CONSUMER, clock);
        for e in &batch.events {
            window.add(&e.event);
        }
        if !batch.dead.is_empty() {
            // Failing here retries the whole invocation with the previous
            // state, so nothing is counted twice.
            self.dead_letters.send(&batch.dead).await?;
            self.metrics.emit(
                &[("Consumer", CONSUMER)],
                &[("PoisonPills", batch.dead.len() as f64, "Count")],
            );
        }
        let mut response = WindowResponse::default();
        if !event.is_final_invoke_for_window {
            response
                .state
                .insert(STATE_KEY.to_string(), window.to_state());
            return Ok((response, FlushReport::default()));
        }
        let Some(bounds) = event.window else {
            return Err(
                AwsError::BadState("a final window invocation without its window".into()).into(),
            );
        };
        let shard = event.shard_id.as_deref().unwrap_or("unknown-shard");
        let report = self.flush(&window, bounds, shard, clock).await?;
        Ok((response, report))
    }

    /// One write of this shard's partials (the store replaces a retried
    /// one), then the rule on each group's totals combined across shards.
    async fn flush(
        &self,
        window: &ShardWindow,
        bounds: Window,
        shard: &str,
        clock: Clock,
    ) -> Result<FlushReport, QoeError> {
        let entries = window.entries();
        let combined = self.windows.flush_shard(bounds, shard, &entries).await?;
        // Breaches are rare: their alerts are written concurrently.
        let raises = entries
            .iter()
            .zip(combined)
            .filter_map(|((title, region, _), totals)| {
                let ratio = self.rule.breach(&totals)?;
                Some(self.raise(title, region, bounds, ratio, totals, clock))
            });
        let mut report = FlushReport {
            groups_flushed: entries.len(),
            ..Default::default()
        };
        for raised in futures::future::join_all(raises).await {
            report.alerts_raised.extend(raised?);
        }
        let mut by_region: std::collections::BTreeMap<&str, (u64, u64, u64)> = Default::default();
        for (_, region, partial) in &entries {
            let r = by_region.entry(region).or_default();
            r.0 += partial.watched_ms;
            r.1 += partial.stalled_ms;
            r.2 += partial.viewers.len() as u64;
        }
        for (region, (watched, stalled, viewers)) in by_region {
            let ratio =
                playback_domain::metrics::rebuffering_ratio(watched, stalled).unwrap_or(0.0);
            self.metrics.emit(
                &[("Region", region)],
                &[
                    ("WatchedMs", watched as f64, "Milliseconds"),
                    ("StalledMs", stalled as f64, "Milliseconds"),
                    ("RebufferingRatio", ratio, "None"),
                    ("ConcurrentViewers", viewers as f64, "Count"),
                ],
            );
        }
        if !report.alerts_raised.is_empty() {
            self.metrics.emit(
                &[],
                &[("AlertsRaised", report.alerts_raised.len() as f64, "Count")],
            );
        }
        Ok(report)
    }

    /// Writes the alert of a breaching title x region once; pages on the first write.
    async fn raise(
        &self,
        title: &str,
        region: &str,
        bounds: Window,
        ratio: f64,
        totals: WindowTotals,
        clock: Clock,
    ) -> Result<Option<Alert>, QoeError> {
        let alert = Alert {
            title_id: title.to_string(),
            region: region.to_string(),
            window: bounds,
            ratio,
            baseline_ratio: self.rule.baseline_ratio,
            threshold: self.rule.threshold(),
            totals,
            raised_at_ms: clock.now_ms,
        };
        if !self.alerts.raise(&alert).await? {
            return Ok(None);
        }
        tracing::warn!(
            title,
            region,
            ratio,
            window_start = bounds.start_ms,
            "rebuffering alert raised"
        );
        Ok(Some(alert))
    }
}

#[cfg(test)]
mod tests;
