//! A run into the online store at a write budget.
//!
//! Each viewer is one conditional UpdateItem on the batch's own attributes
//! (BatchWriteItem would be cheaper per call but is a whole-item put: it
//! would clobber the stream's session attributes, and it takes no
//! condition). A token bucket holds the run to `writes_per_s`; throttles and
//! other retriable errors back off and retry, bounded.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use futures::stream::{self, StreamExt};
use playback_domain::long_horizon::LongHorizonFeatures;
use playback_domain::ports::{LongHorizonStore, PortError, PublishOutcome, Retry};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::OfflineError;

/// The write budget of one publisher.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Sustained writes per second (each UpdateItem of ≤ 1 KB is one WRU).
    pub writes_per_s: f64,
    /// Writes in flight at once.
    pub concurrency: usize,
    /// Attempts per write before the run fails.
    pub attempts: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            writes_per_s: 400.0,
            concurrency: 16,
            attempts: 6,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishReport {
    pub written: usize,
    /// Viewers whose stored features were already from this run or later.
    pub stale: usize,
    /// Retried attempts (throttles, timeouts).
    pub retried: usize,
}

/// A token bucket: `take` waits until the next write fits the budget.
struct Pace {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pace {
    fn new(writes_per_s: f64) -> Self {
        Pace {
            interval: Duration::from_secs_f64(1.0 / writes_per_s.max(f64::MIN_POSITIVE)),
            next: Mutex::new(Instant::now()),
        }
    }

    async fn take(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let at = (*next).max(now);
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

/// Publishes `rows` (one run) with `published_ms` as their publish time.
pub async fn publish<S: LongHorizonStore>(
    store: &S,
    rows: &[LongHorizonFeatures],
    published_ms: i64,
    budget: Budget,
) -> Result<PublishReport, OfflineError> {
    let pace = Pace::new(budget.writes_per_s);
    let retried = std::sync::atomic::AtomicUsize::new(0);
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_secs(2))
        .with_max_times(budget.attempts.saturating_sub(1))
        .with_jitter();
    let outcomes: Vec<Result<PublishOutcome, PortError>> = stream::iter(rows)
        .map(|f| {
            let (pace, retried) = (&pace, &retried);
            async move {
                (|| async {
                    pace.take().await;
                    store.publish(f, published_ms).await
                })
                .retry(backoff)
                .when(|e: &PortError| e.class() == Retry::Retriable)
                .notify(|_, _| {
                    retried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                })
                .await
            }
        })
        .buffer_unordered(budget.concurrency.max(1))
        .collect()
        .await;
    let mut report = PublishReport {
        retried: retried.into_inner(),
        ..PublishReport::default()
    };
    for o in outcomes {
        match o? {
            PublishOutcome::Written => report.written += 1,
            PublishOutcome::Stale => report.stale += 1,
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use playback_domain::memory::MemoryFeatureStore;
    use playback_domain::ports::{PortResult, Published};

    use super::*;

    fn row(viewer: &str, as_of_ms: i64) -> LongHorizonFeatures {
        LongHorizonFeatures {
            viewer_id: viewer.into(),
            as_of_ms,
            top_genres: vec![],
            plays: 1,
            completion_bp: None,
            preferred_device: None,
            preferred_daypart: None,
            active_days: 1,
            watched_ms: 10,
        }
    }

    /// Throttles each viewer's first attempt.
    struct Flaky {
        inner: MemoryFeatureStore,
        calls: AtomicUsize,
        seen: std::sync::Mutex<std::collections::BTreeSet<(String, i64)>>,
    }

    impl LongHorizonStore for Flaky {
        async fn publish(&self, f: &LongHorizonFeatures, at: i64) -> PortResult<PublishOutcome> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let first = self
                .seen
                .lock()
                .unwrap()
                .insert((f.viewer_id.clone(), f.as_of_ms));
            if first {
                return Err(PortError::call(
                    "UpdateItem",
                    Retry::Retriable,
                    Some("ProvisionedThroughputExceededException".into()),
                    "throttled",
                ));
            }
            self.inner.publish(f, at).await
        }
        async fn load_published(&self, ids: &[String]) -> PortResult<BTreeMap<String, Published>> {
            self.inner.load_published(ids).await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn keeps_to_the_budget_retries_throttles_and_skips_older_runs() {
        let store = Flaky {
            inner: MemoryFeatureStore::default(),
            calls: AtomicUsize::new(0),
            seen: Default::default(),
        };
        let rows: Vec<_> = (0..40).map(|i| row(&format!("v{i}"), 2_000)).collect();
        let budget = Budget {
            writes_per_s: 10.0,
            concurrency: 4,
            attempts: 4,
        };
        let start = Instant::now();
        let r = publish(&store, &rows, 5_000, budget).await.unwrap();
        assert_eq!((r.written, r.stale), (40, 0));
        assert_eq!(r.retried, 40, "{r:?}");
        assert_eq!(store.calls.load(Ordering::Relaxed), 80);
        // 80 attempts at 10/s: at least ~8 s of (paused) time.
        assert!(
            start.elapsed() >= Duration::from_millis(7_900),
            "{:?}",
            start.elapsed()
        );

        let older: Vec<_> = (0..40).map(|i| row(&format!("v{i}"), 1_000)).collect();
        let r = publish(&store, &older, 6_000, budget).await.unwrap();
        assert_eq!((r.written, r.stale), (0, 40));
        let got = store.load_published(&["v3".into()]).await.unwrap();
        assert_eq!(
            (got["v3"].features.as_of_ms, got["v3"].published_ms),
            (2_000, 5_000)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_non_retriable_error_fails_the_run() {
        struct Broken;
        impl LongHorizonStore for Broken {
            async fn publish(&self, _: &LongHorizonFeatures, _: i64) -> PortResult<PublishOutcome> {
                Err(PortError::call(
                    "UpdateItem",
                    Retry::NonRetriable,
                    None,
                    "denied",
                ))
            }
            async fn load_published(
                &self,
                _: &[String],
            ) -> PortResult<BTreeMap<String, Published>> {
                Ok(BTreeMap::new())
            }
        }
        let err = publish(&Broken, &[row("v1", 1)], 2, Budget::default())
            .await
            .unwrap_err();
        assert!(matches!(err, OfflineError::Store(_)), "{err}");
    }
}
