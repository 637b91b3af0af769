//! The workspace's one retry policy, backon's exponential backoff with
//! jitter, bounded; and the shape every partial-batch API needs on top of it:
//! re-send only what came back unprocessed (BatchGetItem's UnprocessedKeys,
//! SendMessageBatch's failed entries, PutRecords' failed records).
//!
//! Errors of a call itself are not retried here: the SDK client has already
//! retried throttles and transient failures by its own standard policy, and
//! the handlers decide what a remaining error means (`crate::classify`).

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use playback_domain::ports::{PortError, PortResult};

/// Retries after the first attempt.
pub const MAX_RETRIES: usize = 5;

/// 50 ms doubling up to 1 s, each delay plus a random jitter of up to itself,
/// at most [`MAX_RETRIES`] retries: at most ~3 s of waiting in all, well
/// inside a Lambda invocation, and enough for a throttled partition to
/// recover (AWS asks for exponential backoff on unprocessed batch items).
pub fn policy() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(1))
        .with_factor(2.0)
        .with_max_times(MAX_RETRIES)
        .with_jitter()
}

/// The same backoff for waiting on a resource to become ready (a stream
/// ACTIVE, a table ACTIVE): 250 ms doubling to 2 s, for at most `budget`.
pub fn readiness(budget: Duration) -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(2))
        .with_factor(2.0)
        .without_max_times()
        .with_total_delay(Some(budget))
        .with_jitter()
}

enum Attempt {
    Failed(PortError),
    Unprocessed(usize),
}

/// Sends `items` with `send`, which answers with the items it left
/// unprocessed, and re-sends only those after `backoff`'s delays (use
/// [`policy`]). A failed call returns its error at once. Items still
/// unprocessed after the last attempt: `PortError::Unprocessed` saying how
/// many of how many `what` and after how many attempts.
pub async fn until_processed<T, F, Fut>(
    operation: &'static str,
    what: &str,
    items: Vec<T>,
    backoff: impl BackoffBuilder,
    mut send: F,
) -> PortResult<()>
where
    F: FnMut(Vec<T>) -> Fut,
    Fut: Future<Output = PortResult<Vec<T>>>,
{
    let total = items.len();
    if total == 0 {
        return Ok(());
    }
    let pending = Mutex::new(items);
    let pending = &pending;
    let mut attempts = 1;
    // Boxed: backon's future nests deep enough to overflow rustc's layout
    // depth in the Lambda binaries' handler futures.
    let outcome = Box::pin(
        (|| {
            let batch =
                std::mem::take(&mut *pending.lock().unwrap_or_else(PoisonError::into_inner));
            let call = send(batch);
            async move {
                let left = call.await.map_err(Attempt::Failed)?;
                if left.is_empty() {
                    return Ok(());
                }
                let n = left.len();
                *pending.lock().unwrap_or_else(PoisonError::into_inner) = left;
                Err(Attempt::Unprocessed(n))
            }
        })
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|e| matches!(e, Attempt::Unprocessed(_)))
        .notify(|_, _| attempts += 1),
    )
    .await;
    match outcome {
        Ok(()) => Ok(()),
        Err(Attempt::Failed(e)) => Err(e),
        Err(Attempt::Unprocessed(left)) => Err(PortError::Unprocessed {
            operation,
            detail: format!("{left} of {total} {what} still unprocessed after {attempts} attempts"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use playback_domain::ports::Retry;

    fn fast() -> ExponentialBuilder {
        policy().with_min_delay(Duration::from_millis(1))
    }

    #[tokio::test]
    async fn re_sends_only_the_unprocessed_items() {
        let mut calls: Vec<Vec<u32>> = Vec::new();
        let r = until_processed("t.op", "keys", vec![1, 2, 3, 4], fast(), |batch| {
            calls.push(batch.clone());
            // The first two attempts leave their last item unprocessed.
            let left = if calls.len() <= 2 {
                batch[batch.len() - 1..].to_vec()
            } else {
                vec![]
            };
            async move { Ok(left) }
        })
        .await;
        assert!(r.is_ok());
        assert_eq!(calls, vec![vec![1, 2, 3, 4], vec![4], vec![4]]);
    }

    #[tokio::test]
    async fn gives_up_after_the_bounded_attempts_naming_what_is_left() {
        let mut calls = 0;
        let r = until_processed("features.load", "keys", vec![1, 2, 3], fast(), |b| {
            calls += 1;
            // The first key comes back; the other two never do.
            let left = b.into_iter().filter(|k| *k != 1).collect();
            async move { Ok(left) }
        })
        .await;
        let e = r.unwrap_err();
        assert_eq!(calls, MAX_RETRIES + 1);
        assert!(e.is_retriable());
        assert_eq!(
            e.to_string(),
            format!(
                "features.load: 2 of 3 keys still unprocessed after {} attempts",
                MAX_RETRIES + 1
            )
        );
    }

    #[tokio::test]
    async fn a_failed_call_is_not_retried() {
        let mut calls = 0;
        let r = until_processed("dlq.send", "entries", vec![1], fast(), |_| {
            calls += 1;
            async {
                Err::<Vec<u32>, _>(PortError::call(
                    "dlq.send",
                    Retry::NonRetriable,
                    Some("AccessDenied".into()),
                    "denied",
                ))
            }
        })
        .await;
        assert!(!r.unwrap_err().is_retriable());
        assert_eq!(calls, 1);
    }

    #[test]
    fn the_policy_is_bounded_growing_and_jittered() {
        let delays: Vec<Duration> = policy().build().collect();
        assert_eq!(delays.len(), MAX_RETRIES);
        let total: Duration = delays.iter().sum();
        assert!(total <= Duration::from_secs(4), "{total:?}");
        // Jitter adds up to one delay: each stays within [d, 2d].
        for (i, d) in delays.iter().enumerate() {
            let base = Duration::from_millis(50 * (1 << i)).min(Duration::from_secs(1));
            let slack = Duration::from_micros(10);
            assert!(
                *d + slack >= base && *d <= base * 2 + slack,
                "retry {i}: {d:?}"
            );
        }
    }
}
