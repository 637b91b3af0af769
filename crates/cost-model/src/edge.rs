//! The ingest edge (functions/collector, infra/lib/collector.ts): players
//! POST a few events per request. Three hosts of the one service, and the
//! alternative our users weigh: players writing Kinesis themselves with
//! Cognito identity-pool credentials.
//!
//! A per-request Lambda sees one player's request, so a Kinesis record holds
//! that request's events and an SRE message its quality events; a long-lived
//! Fargate task packs across viewers (records to `pack_bytes`, SRE bodies to
//! 64 KiB). CPU per request is measured (`make bench`, crates/bench/src/edge.rs);
//! the rest is stated in [`Edge`].

use std::str::FromStr;

use crate::billing::{DAYS_PER_MONTH, GB, HOURS_PER_MONTH};
use crate::measured::Measured;
use crate::params::Params;
use crate::prices::p;
use crate::sizing::FULL_VCPU_MB;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeHost {
    /// The collector Lambda behind a function URL (the CDK default).
    FunctionUrl,
    /// The collector Lambda behind an API Gateway HTTP API.
    HttpApi,
    /// `collector-server` on ECS Fargate behind an ALB.
    Fargate,
    /// No edge: players call PutRecords and SendMessage with Cognito credentials.
    CognitoDirect,
}

impl EdgeHost {
    pub const ALL: [EdgeHost; 4] = [
        EdgeHost::FunctionUrl,
        EdgeHost::HttpApi,
        EdgeHost::Fargate,
        EdgeHost::CognitoDirect,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EdgeHost::FunctionUrl => "function-url",
            EdgeHost::HttpApi => "http-api",
            EdgeHost::Fargate => "fargate",
            EdgeHost::CognitoDirect => "cognito-direct",
        }
    }

    /// Packs events of many viewers into one record and SRE body.
    pub fn packs_across_viewers(self) -> bool {
        self == EdgeHost::Fargate
    }
}

impl FromStr for EdgeHost {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        EdgeHost::ALL
            .into_iter()
            .find(|h| h.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = EdgeHost::ALL.iter().map(|h| h.name()).collect();
                format!("unknown edge host {s:?}; one of {}", names.join(", "))
            })
    }
}

/// The edge's stated assumptions (each a `cost-model` flag where it matters).
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub host: EdgeHost,
    /// Players send every ~10 s: a request carries 1-2 events.
    pub events_per_request: f64,
    pub lambda_memory_mb: f64,
    /// PutRecords round trip the Lambda waits for (SQS runs beside it).
    pub kinesis_latency_ms: f64,
    /// Response: status line, headers and envelope, then one result per event.
    pub response_base_bytes: f64,
    pub response_bytes_per_event: f64,
    /// Requests that open a connection (players keep one alive across the
    /// 10 s interval; the ALB's idle timeout is 60 s).
    pub new_connection_share: f64,
    pub task_vcpu: f64,
    pub task_gb: f64,
    /// Auto scaling's CPU target.
    pub target_utilization: f64,
    pub min_tasks: f64,
    /// The tasks' isolated subnets reach AWS through interface endpoints
    /// (Kinesis, SQS, ECR api + dkr, CloudWatch Logs; S3 and DynamoDB are
    /// free gateways), one per AZ: infra/lib/collector.ts.
    pub interface_endpoints: f64,
    pub azs: f64,
    /// KMS calls per principal-hour when each player is its own principal
    /// (Kinesis and SQS reuse a data key ~5 min per principal).
    pub kms_requests_per_principal_hour: f64,
}

impl Default for Edge {
    fn default() -> Self {
        Edge {
            host: EdgeHost::FunctionUrl,
            events_per_request: 1.5,
            // infra/lib/config.ts EXTRA_FUNCTIONS.collector (sized by measurement).
            lambda_memory_mb: 128.0,
            kinesis_latency_ms: 20.0,
            response_base_bytes: 250.0,
            response_bytes_per_event: 80.0,
            new_connection_share: 0.1,
            // infra/lib/collector.ts FARGATE: 0.5 vCPU / 1 GiB, CPU target 60 %.
            task_vcpu: 0.5,
            task_gb: 1.0,
            target_utilization: 0.6,
            min_tasks: 2.0,
            interface_endpoints: 5.0,
            azs: 2.0,
            kms_requests_per_principal_hour: 12.0,
        }
    }
}

/// A request's line, headers and auth (the body is the events).
pub const REQUEST_HEADER_BYTES: f64 = 500.0;

/// One priced line of the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeLine {
    pub service: &'static str,
    pub item: String,
    pub quantity: f64,
    pub unit: &'static str,
    pub usd: f64,
}

fn line(
    service: &'static str,
    item: String,
    quantity: f64,
    unit: &'static str,
    usd: f64,
) -> EdgeLine {
    EdgeLine {
        service,
        item,
        quantity,
        unit,
        usd,
    }
}

/// Requests a month at `n` events per request.
pub fn requests_per_month(pm: &Params, n: f64) -> f64 {
    pm.events_per_month() / n.max(1.0)
}

/// CPU ns of one request on arm64 (the bench's x86 figure scaled).
pub fn cpu_ns_per_request(pm: &Params, m: &Measured, n: f64) -> f64 {
    (m.collector_cpu_ns_per_request + n * m.collector_cpu_ns_per_event) * pm.arm64_cpu_factor
}

/// Billed ms of one Lambda request: its CPU at the memory's vCPU share, then
/// the wait for PutRecords (SendMessageBatch runs beside it), rounded up to 1 ms.
pub fn lambda_billed_ms(pm: &Params, m: &Measured, n: f64) -> f64 {
    let e = &pm.edge;
    let share = (e.lambda_memory_mb / FULL_VCPU_MB).min(1.0);
    let cpu_ms = cpu_ns_per_request(pm, m, n) / 1e6 / share;
    let wait_ms = e.kinesis_latency_ms.max(pm.sqs_latency_ms) + pm.invoke_overhead_ms;
    (cpu_ms + wait_ms).ceil()
}

/// HTTP API requests priced over the monthly tiers (300 M, 1 B).
pub fn http_api_usd(requests: f64) -> f64 {
    let first = requests.min(300e6);
    let next = (requests - 300e6).clamp(0.0, 700e6);
    let over = (requests - 1e9).max(0.0);
    (first * p("apigw.http_m_300m") + next * p("apigw.http_m_1b") + over * p("apigw.http_m_over"))
        / 1e6
}

/// Concurrent players: events/s over a watching player's events/s.
pub fn concurrent_players(pm: &Params) -> f64 {
    pm.events_per_day / 86_400.0 / (pm.events_per_viewer_minute / 60.0)
}

/// Task-hours a month, following the load (the regimes) above the minimum.
pub fn fargate_task_hours(pm: &Params, m: &Measured, n: f64) -> f64 {
    let e = &pm.edge;
    let cpu_s = cpu_ns_per_request(pm, m, n) / 1e9;
    let mean_rps = pm.events_per_day / 86_400.0 / n;
    let per_day: f64 = pm
        .regimes()
        .iter()
        .map(|r| {
            let vcpu = mean_rps * r.factor * cpu_s / e.target_utilization;
            (vcpu / e.task_vcpu).ceil().max(e.min_tasks) * r.hours
        })
        .sum();
    per_day * DAYS_PER_MONTH
}

/// The edge's lines for `host` at `n` events per request.
pub fn edge_lines(pm: &Params, m: &Measured, host: EdgeHost, n: f64) -> Vec<EdgeLine> {
    let e = &pm.edge;
    let requests = requests_per_month(pm, n);
    let per = format!("{n} events/request");
    let mut out = Vec::new();
    let response_gb = requests * (e.response_base_bytes + n * e.response_bytes_per_event) / GB;
    if host != EdgeHost::CognitoDirect {
        out.push(line(
            "Edge",
            format!("{}: responses to players ({per})", host.name()),
            response_gb,
            "GB",
            response_gb * p("dto.internet_gb"),
        ));
    }
    match host {
        EdgeHost::FunctionUrl | EdgeHost::HttpApi => {
            let ms = lambda_billed_ms(pm, m, n);
            let gb_s = requests * ms / 1e3 * e.lambda_memory_mb / 1024.0;
            out.push(line(
                "Edge",
                format!(
                    "{}: collector Lambda {:.0} MB, {ms:.0} ms billed/request ({:.0} us CPU), {per}",
                    host.name(),
                    e.lambda_memory_mb,
                    cpu_ns_per_request(pm, m, n) / 1e3
                ),
                gb_s,
                "GB-s",
                gb_s * p("lambda.arm_gb_s") + requests / 1e6 * p("lambda.request_m"),
            ));
            if host == EdgeHost::HttpApi {
                out.push(line(
                    "Edge",
                    format!("http-api: requests ({per})"),
                    requests / 1e6,
                    "M req",
                    http_api_usd(requests),
                ));
            }
        }
        EdgeHost::Fargate => {
            let task_h = fargate_task_hours(pm, m, n);
            out.push(line(
                "Edge",
                format!(
                    "fargate: collector-server tasks {} vCPU / {} GB at {:.0}% CPU ({:.0} us/request), {per}",
                    e.task_vcpu,
                    e.task_gb,
                    e.target_utilization * 100.0,
                    cpu_ns_per_request(pm, m, n) / 1e3
                ),
                task_h,
                "task-h",
                task_h * (e.task_vcpu * p("fargate.arm_vcpu_h") + e.task_gb * p("fargate.arm_gb_h")),
            ));
            let rps = requests / (HOURS_PER_MONTH * 3600.0);
            let processed_gb =
                response_gb + requests * (REQUEST_HEADER_BYTES + n * pm.event_bytes) / GB;
            // Every dimension is linear in the load: the mean hour is the mean LCU.
            let lcu = [
                rps * e.new_connection_share / 25.0,
                concurrent_players(pm) / 3000.0,
                processed_gb / HOURS_PER_MONTH,
            ]
            .into_iter()
            .fold(0.0, f64::max);
            out.push(line(
                "Edge",
                format!(
                    "fargate: ALB, {lcu:.0} LCU (active connections of {:.0} k players)",
                    concurrent_players(pm) / 1e3
                ),
                lcu * HOURS_PER_MONTH,
                "LCU-h",
                HOURS_PER_MONTH * (p("alb.hour") + lcu * p("alb.lcu_h")),
            ));
            // Every accepted byte goes out through the Kinesis endpoint, the
            // quality events again through the SQS one.
            let through_gb = pm.events_per_month() * pm.event_bytes * 2.0 / GB;
            let az_h = e.interface_endpoints * e.azs * HOURS_PER_MONTH;
            out.push(line(
                "Edge",
                format!(
                    "fargate: {} interface endpoints x {} AZs, {through_gb:.0} GB through",
                    e.interface_endpoints, e.azs
                ),
                through_gb,
                "GB",
                az_h * p("vpce.az_hour") + through_gb * p("vpce.gb"),
            ));
        }
        EdgeHost::CognitoDirect => {
            let kms = concurrent_players(pm) * e.kms_requests_per_principal_hour * HOURS_PER_MONTH;
            out.push(line(
                "Edge",
                "cognito-direct: KMS requests, a data key per player per ~5 min (Kinesis and SQS)"
                    .into(),
                kms / 1e6,
                "M req",
                kms / 1e4 * p("kms.request_10k"),
            ));
        }
    }
    out
}

/// The deployed host's lines, in the bill.
pub(crate) fn lines(pm: &Params, m: &Measured, bill: &mut crate::estimate::Bill) {
    for l in edge_lines(pm, m, pm.edge.host, pm.edge.events_per_request) {
        bill.line(
            l.service,
            l.item,
            l.quantity,
            l.unit,
            l.usd,
            crate::estimate::Mode::Both,
        );
    }
}

/// The parameters the rest of the bill sees behind `host` at `n`: what one
/// Kinesis record and one SRE message can hold there.
pub fn behind(pm: &Params, host: EdgeHost, n: f64) -> Params {
    let mut q = pm.clone();
    q.edge.host = host;
    q.edge.events_per_request = n;
    if !host.packs_across_viewers() {
        q.events_per_record = Some(n.max(1.0));
        q.sre_body_bytes = n.max(1.0) * pm.event_bytes;
    }
    q
}

#[cfg(test)]
#[path = "edge_tests.rs"]
mod tests;
