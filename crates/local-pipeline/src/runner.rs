//! The whole pipeline in one process: the three functions built by their own
//! entry points (`build` + `App::invoke`, what their main.rs runs) on their
//! real AWS adapters, each behind the event-source mapping Lambda would give
//! it, plus the lake landing as one more stream reader.

use playback_aws::emf::Metrics;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use tokio_util::sync::CancellationToken;

use crate::esm::events::KinesisSource;
use crate::esm::kinesis::{self, ReadOptions, StreamMapping};
use crate::esm::sink::{self, SharedSink, SinkReader};
use crate::esm::sqs::{self, QueueMapping};
use crate::esm::{Checkpoints, ConsumerMetrics, EsmTasks, MetricsSnapshot, StartingPosition};
use crate::function::{from_fn, payload, to_response, unmarshal, Function, FunctionError};
use crate::on_failure::OnFailureQueue;
use crate::topology::{Topology, QOE_ALERTS, SESSION_FEATURES};
use crate::{Resources, Result};

/// Consumer names of the mappings (metrics and checkpoint keys).
pub const SRE_BUFFER: &str = "sre-buffer";
pub const LAKE: &str = "lake-firehose";

#[derive(Clone)]
pub struct PipelineOptions {
    pub starting_position: StartingPosition,
    pub poll_interval: Duration,
    /// Shared with a previous run to resume after its checkpoints.
    pub checkpoints: Checkpoints,
    /// Which mappings to run, by consumer name; empty = all.
    pub only: Vec<String>,
    /// Replaces a handler by another function (tests), by consumer name.
    pub functions: BTreeMap<String, Arc<dyn Function>>,
    /// The lake landing (the Firehose emulator); None leaves the lake out.
    pub lake_sink: Option<SharedSink>,
    pub retry_backoff: Duration,
    pub window_grace: Duration,
    pub drain_timeout: Duration,
    pub sqs_pollers: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            starting_position: StartingPosition::TrimHorizon,
            poll_interval: Duration::from_millis(250),
            checkpoints: Checkpoints::default(),
            only: Vec::new(),
            functions: BTreeMap::new(),
            lake_sink: None,
            retry_backoff: Duration::from_millis(200),
            window_grace: Duration::from_millis(500),
            drain_timeout: Duration::from_secs(30),
            sqs_pollers: 2,
        }
    }
}

pub struct Pipeline;

pub struct PipelineHandle {
    cancel: CancellationToken,
    tasks: Vec<(String, EsmTasks)>,
    metrics: BTreeMap<String, Arc<ConsumerMetrics>>,
    checkpoints: Checkpoints,
}

impl Pipeline {
    /// Starts every mapping with default options and the standard AWS environment.
    pub async fn start(topology: &Topology, resources: &Resources) -> Result<PipelineHandle> {
        let aws = playback_aws::load_aws_config().await;
        Self::start_with(&aws, topology, resources, PipelineOptions::default()).await
    }

    pub async fn start_with(
        aws: &SdkConfig,
        t: &Topology,
        r: &Resources,
        opts: PipelineOptions,
    ) -> Result<PipelineHandle> {
        let cancel = CancellationToken::new();
        let wanted = |name: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == name);
        let kinesis_client = aws_sdk_kinesis::Client::new(aws);
        let sqs_client = aws_sdk_sqs::Client::new(aws);
        let mut handle = PipelineHandle {
            cancel: cancel.clone(),
            tasks: Vec::new(),
            metrics: BTreeMap::new(),
            checkpoints: opts.checkpoints.clone(),
        };
        for name in [QOE_ALERTS, SESSION_FEATURES] {
            if !wanted(name) {
                continue;
            }
            let metrics = Arc::new(ConsumerMetrics::default());
            let function = match opts.functions.get(name) {
                Some(f) => f.clone(),
                None if name == QOE_ALERTS => qoe_alerts(aws, t, r, metrics.clone()),
                None => session_features(aws, t, r, metrics.clone()),
            };
            let mapping =
                stream_mapping(t, r, name, function, &sqs_client, &opts, metrics.clone())?;
            let read = read_options(r, &opts);
            let tasks = kinesis::start(
                kinesis_client.clone(),
                Arc::new(mapping),
                read,
                cancel.clone(),
            )
            .await?;
            handle.push(name, metrics, tasks);
        }
        if wanted(SRE_BUFFER) {
            let metrics = Arc::new(ConsumerMetrics::default());
            let function = opts
                .functions
                .get(SRE_BUFFER)
                .cloned()
                .unwrap_or_else(|| sre_buffer(aws, t, r, metrics.clone()));
            let q = &t.sre_buffer;
            let mapping = QueueMapping {
                consumer: SRE_BUFFER.into(),
                queue_url: r.quality_queue_url.clone(),
                queue_arn: r.quality_queue_arn.clone(),
                region: r.region.clone(),
                function,
                metrics: metrics.clone(),
                batch_size: q.batch_size,
                batching_window: Duration::from_secs(q.batching_window_s),
                pollers: opts.sqs_pollers.min(q.max_concurrency as usize).max(1),
            };
            let tasks = sqs::start(sqs_client.clone(), Arc::new(mapping), cancel.clone());
            handle.push(SRE_BUFFER, metrics, tasks);
        }
        if let (true, Some(sink)) = (wanted(LAKE), opts.lake_sink.clone()) {
            let metrics = Arc::new(ConsumerMetrics::default());
            let reader = SinkReader {
                consumer: LAKE.into(),
                sink,
                checkpoints: opts.checkpoints.clone(),
                metrics: metrics.clone(),
                flush_every: Duration::from_secs(1),
            };
            let read = read_options(r, &opts);
            let tasks = sink::start(kinesis_client, reader, read, cancel.clone()).await?;
            handle.push(LAKE, metrics, tasks);
        }
        Ok(handle)
    }
}

fn read_options(r: &Resources, opts: &PipelineOptions) -> ReadOptions {
    ReadOptions {
        starting_position: opts.starting_position,
        poll_interval: opts.poll_interval,
        drain_timeout: opts.drain_timeout,
        ..ReadOptions::new(&r.stream_name)
    }
}

/// The mapping of one Kinesis consumer of pipeline.json, its on-failure
/// destination being the poison-pill queue.
pub fn stream_mapping(
    t: &Topology,
    r: &Resources,
    consumer: &str,
    function: Arc<dyn Function>,
    sqs: &aws_sdk_sqs::Client,
    opts: &PipelineOptions,
    metrics: Arc<ConsumerMetrics>,
) -> Result<StreamMapping> {
    let c = t.consumer(consumer)?;
    let secs = |s: i64| (s >= 0).then(|| Duration::from_secs(s as u64));
    Ok(StreamMapping {
        consumer: consumer.to_string(),
        source: KinesisSource {
            region: r.region.clone(),
            event_source_arn: r
                .consumer_arns
                .get(consumer)
                .cloned()
                .unwrap_or_else(|| r.stream_arn.clone()),
            invoke_identity_arn: format!("arn:aws:iam::{}:role/{consumer}", r.account),
        },
        stream_arn: r.stream_arn.clone(),
        function_arn: r.function_arn(consumer),
        function,
        on_failure: Some(Arc::new(OnFailureQueue {
            client: sqs.clone(),
            queue_url: r.poison_dlq_url.clone(),
        })),
        checkpoints: opts.checkpoints.clone(),
        metrics,
        batch_size: c.batch_size.max(1),
        batching_window: Duration::from_secs(c.batching_window_s),
        tumbling_window: c.tumbling_window_s.map(Duration::from_secs),
        max_retry_attempts: (c.max_retry_attempts >= 0).then_some(c.max_retry_attempts as u32),
        max_record_age: secs(c.max_record_age_s),
        bisect_on_error: c.bisect_on_error,
        retry_backoff: opts.retry_backoff,
        window_grace: opts.window_grace,
    })
}

fn unhandled(kind: &str, e: impl std::fmt::Display) -> FunctionError {
    FunctionError::new(kind, e.to_string())
}

/// qoe-alerts through its entry point (`qoe_alerts::App::invoke`, as its
/// main.rs runs it), configured from the prefixed resources.
pub fn qoe_alerts(
    aws: &SdkConfig,
    t: &Topology,
    r: &Resources,
    m: Arc<ConsumerMetrics>,
) -> Arc<dyn Function> {
    let cfg = qoe_alerts::Config {
        windows_table: r.windows_table.clone(),
        alerts_table: r.alerts_table.clone(),
        poison_dlq_url: r.poison_dlq_url.clone(),
        alerts_topic_arn: r.alerts_topic_arn.clone(),
        rule: t.alerts.rule(),

        metrics: Metrics::from_env(),
    };
    let app = Arc::new(qoe_alerts::build(aws, cfg));
    from_fn(move |event| {
        let (app, m) = (app.clone(), m.clone());
        async move {
            let (response, report) = (app.invoke(&payload(&event)).await).map_err(|e| match e {
                qoe_alerts::QoeError::Payload(e) => unmarshal(e),
                e => unhandled("QoeError", e),
            })?;
            ConsumerMetrics::add(&m.alerts, report.alerts_raised.len() as u64);
            to_response(&response)
        }
    })
}

/// session-features through its entry point, configured from the prefixed resources.
pub fn session_features(
    aws: &SdkConfig,
    t: &Topology,
    r: &Resources,
    m: Arc<ConsumerMetrics>,
) -> Arc<dyn Function> {
    let cfg = session_features::Config {
        features_table: r.features_table.clone(),
        poison_dlq_url: r.poison_dlq_url.clone(),
        ttl_days: t.features.ttl_days,
        metrics: Metrics::from_env(),
    };
    let app = Arc::new(session_features::build(aws, cfg));
    from_fn(move |event| {
        let (app, m) = (app.clone(), m.clone());
        async move {
            let (response, report) = (app.invoke(&payload(&event)).await).map_err(|e| match e {
                session_features::SessionFeaturesError::Payload(e) => unmarshal(e),
                e => unhandled("SessionFeaturesError", e),
            })?;
            ConsumerMetrics::add(&m.dead_letters, report.dead_letters as u64);
            to_response(&response)
        }
    })
}

/// sre-buffer through its entry point, configured from the prefixed resources.
pub fn sre_buffer(
    aws: &SdkConfig,
    t: &Topology,
    r: &Resources,
    m: Arc<ConsumerMetrics>,
) -> Arc<dyn Function> {
    let cfg = sre_buffer::Config {
        sre_table: r.sre_table.clone(),
        poison_dlq_url: r.poison_dlq_url.clone(),
        alerts_topic_arn: r.alerts_topic_arn.clone(),
        rule: t.sre,

        metrics: Metrics::from_env(),
    };
    let app = Arc::new(sre_buffer::build(aws, cfg));
    from_fn(move |event| {
        let (app, m) = (app.clone(), m.clone());
        async move {
            let (response, report) = (app.invoke(&payload(&event)).await).map_err(|e| match e {
                sre_buffer::SreBufferError::Payload(e) => unmarshal(e),
                e => unhandled("SreBufferError", e),
            })?;
            ConsumerMetrics::add(&m.dead_letters, report.dead_letters as u64);
            ConsumerMetrics::add(&m.alerts, report.incidents.len() as u64);
            to_response(&response)
        }
    })
}

impl PipelineHandle {
    fn push(&mut self, name: &str, metrics: Arc<ConsumerMetrics>, tasks: EsmTasks) {
        self.metrics.insert(name.to_string(), metrics);
        self.tasks.push((name.to_string(), tasks));
    }

    /// Counters per consumer name.
    pub fn metrics(&self) -> BTreeMap<String, MetricsSnapshot> {
        self.metrics
            .iter()
            .map(|(k, m)| (k.clone(), m.snapshot()))
            .collect()
    }

    pub fn checkpoints(&self) -> &Checkpoints {
        &self.checkpoints
    }

    /// A token that stops the pipeline when cancelled (e.g. from a signal handler).
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Stops reading, lets invocations under way finish, gives open windows
    /// their final invocation and flushes the lake buffers.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        self.wait().await;
    }

    /// Waits for the mappings to stop (after `cancel_token().cancel()`).
    pub async fn wait(self) {
        for (name, tasks) in self.tasks {
            tasks.join().await;
            tracing::debug!(consumer = %name, "mapping stopped");
        }
    }
}

/// The lake landing for `run`: the Firehose emulator writing to the lake bucket.
pub async fn lake_sink(aws: &SdkConfig, t: &Topology, r: &Resources) -> Option<SharedSink> {
    match crate::lake_landing::s3_sink(aws, t, r) {
        Ok(sink) => Some(sink),
        Err(e) => {
            tracing::warn!(error = %e, "lake landing disabled");
            None
        }
    }
}
