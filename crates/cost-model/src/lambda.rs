//! Lambda: invocations, duration and GB-s of the four functions, and their
//! compute and request lines.

use crate::billing::{DAYS_PER_MONTH, MIB};
use crate::estimate::{Bill, Mode};
use crate::measured::Measured;
use crate::params::{Consumer, Params};
use crate::prices::p;
use crate::sizing::{Stream, FULL_VCPU_MB, LAMBDA_PAYLOAD_BYTES};
use crate::windows::{self, WindowFlushes};

/// Lambda figures of one function.
#[derive(Debug, Clone, Default)]
pub struct LambdaUse {
    pub invocations_per_day: f64,
    pub gb_s_per_day: f64,
    pub events_per_invocation_peak: f64,
    pub duration_ms_peak: f64,
    /// Max concurrency the event source allows (shards x parallelization).
    pub esm_concurrency: f64,
    /// Invocations in flight at peak (invocations/s x duration).
    pub busy_concurrency_peak: f64,
    pub log_bytes_per_day: f64,
}

/// Bytes of CloudWatch Logs per invocation: START/END/REPORT platform lines.
pub const PLATFORM_LOG_BYTES: f64 = 430.0;
/// One EMF document (PoisonPills, or one Region's QoE metrics).
pub const EMF_LINE_BYTES: f64 = 420.0;

/// The four functions as deployed.
#[derive(Debug, Clone)]
pub(crate) struct Functions {
    pub qoe: LambdaUse,
    pub features: LambdaUse,
    pub transform: LambdaUse,
    pub sre: LambdaUse,
}

/// Lambda on a Kinesis event source mapping: invocations, duration, GB-s.
/// `io_ms(records, events)` gives the waits of one invocation (stores, queues).
#[allow(clippy::too_many_arguments)]
fn stream_lambda(
    pm: &Params,
    c: Consumer,
    shards: f64,
    records_per_day: f64,
    events_per_record: f64,
    record_json_bytes: f64,
    cpu_ns_per_event: f64,
    io_ms: &dyn Fn(f64, f64) -> f64,
    log_bytes: &dyn Fn(f64) -> f64,
) -> LambdaUse {
    let batchers = shards * c.parallelization;
    let eff_batch = c
        .batch_size
        .min((LAMBDA_PAYLOAD_BYTES / record_json_bytes).floor())
        .max(1.0);
    let share = (c.memory_mb / FULL_VCPU_MB).min(1.0);
    let mut u = LambdaUse {
        esm_concurrency: batchers,
        ..Default::default()
    };
    for (i, r) in pm.regimes().into_iter().enumerate() {
        if r.hours <= 0.0 || r.factor <= 0.0 {
            continue;
        }
        let rate = records_per_day / 86_400.0 * r.factor / batchers;
        let mut interval = c.batching_window_s.min(eff_batch / rate);
        let mut finals_per_s = 0.0;
        // A batch never spans two tumbling windows, and each window ends with
        // one more (final) invocation per batcher.
        if c.tumbling_s > 0.0 {
            interval = interval.min(c.tumbling_s);
            finals_per_s = 1.0 / c.tumbling_s;
        }
        let inv_per_s = 1.0 / interval + finals_per_s;
        let records = rate / inv_per_s;
        let events = records * events_per_record;
        let cpu_ms = events * cpu_ns_per_event * pm.arm64_cpu_factor / 1e6 / share;
        let dur_ms = cpu_ms + io_ms(records, events) + pm.invoke_overhead_ms;
        let inv = inv_per_s * batchers * r.hours * 3600.0;
        u.invocations_per_day += inv;
        u.gb_s_per_day += inv * dur_ms / 1000.0 * c.memory_mb / 1024.0;
        u.log_bytes_per_day += inv * log_bytes(events);
        if i == 0 {
            u.events_per_invocation_peak = events;
            u.duration_ms_peak = dur_ms;
            u.busy_concurrency_peak = inv_per_s * batchers * dur_ms / 1000.0;
        }
    }
    u
}

/// SendMessageBatch calls for `dead` dead letters, 10 per call (below one, the
/// expected number of calls).
fn sqs_calls(dead: f64) -> f64 {
    if dead < 1.0 {
        dead
    } else {
        (dead / 10.0).ceil()
    }
}

/// A day of each function at this packing, and qoe-alerts' window flushes.
pub(crate) fn functions(pm: &Params, m: &Measured, s: &Stream) -> (Functions, WindowFlushes) {
    let (k, e_day, r_day, shards) = (s.k, s.events_per_day, s.records_per_day, s.shards);
    let record_json = s.record_json_bytes;
    let (qoe_ns, feat_ns) = if s.packed {
        (
            m.qoe_cpu_ns_per_event_packed,
            m.features_cpu_ns_per_event_packed,
        )
    } else {
        (m.qoe_cpu_ns_per_event, m.features_cpu_ns_per_event)
    };
    let lat = pm.ddb_latency_ms;
    let malformed = pm.malformed_share;
    let qoe_io = |_records: f64, events: f64| sqs_calls(events * malformed) * pm.sqs_latency_ms;
    let qoe_logs =
        |events: f64| PLATFORM_LOG_BYTES + (events * malformed).min(1.0) * EMF_LINE_BYTES;
    let mut qoe = stream_lambda(
        pm,
        pm.qoe,
        shards,
        r_day,
        k,
        record_json,
        qoe_ns,
        &qoe_io,
        &qoe_logs,
    );
    let windows = windows::flush(pm, m, s, &mut qoe);
    let wc = pm.write_concurrency;
    let feat_io = |records: f64, _events: f64| {
        let viewers = records; // a record carries one viewer
        ((viewers / 100.0).ceil() + (viewers / wc).ceil()) * lat
            + sqs_calls(records * k * malformed) * pm.sqs_latency_ms
    };
    let feat_logs =
        |events: f64| PLATFORM_LOG_BYTES + 300.0 + (events * malformed).min(1.0) * EMF_LINE_BYTES;
    let features = stream_lambda(
        pm,
        pm.features,
        shards,
        r_day,
        k,
        record_json,
        feat_ns,
        &feat_io,
        &feat_logs,
    );

    // firehose-transform: Firehose de-aggregates first, so it sees one event per
    // record whatever the packing; invoked per `transform_buffer_mb` of input.
    let per_inv = (pm.transform_buffer_mb * MIB / pm.event_bytes).floor();
    let t_share = (pm.transform_memory_mb / FULL_VCPU_MB).min(1.0);
    let t_ms = per_inv * m.transform_cpu_ns_per_event * pm.arm64_cpu_factor / 1e6 / t_share
        + pm.invoke_overhead_ms;
    let t_inv = e_day / per_inv;
    let transform = LambdaUse {
        invocations_per_day: t_inv,
        gb_s_per_day: t_inv * t_ms / 1000.0 * pm.transform_memory_mb / 1024.0,
        events_per_invocation_peak: per_inv,
        duration_ms_peak: t_ms,
        esm_concurrency: 0.0,
        busy_concurrency_peak: t_inv / 86_400.0 * pm.peak_factor * t_ms / 1000.0,
        log_bytes_per_day: t_inv * PLATFORM_LOG_BYTES + e_day * malformed * 300.0,
    };
    // sre-buffer: SQS batches of `sre_batch` packed bodies; per slice-minute
    // an UpdateItem (ADD) and two Queries (baseline, incidents), in sequence.
    let per_body = sre_events_per_body(pm);
    let s_inv = sre_messages_per_day(pm, m, e_day) / pm.sre_batch;
    let s_share = (pm.sre_memory_mb / FULL_VCPU_MB).min(1.0);
    let s_events = pm.sre_batch * per_body;
    let s_ms = s_events * pm.sre_cpu_ns_per_event * pm.arm64_cpu_factor / 1e6 / s_share
        + sre_slices_per_batch(pm) * 3.0 * lat
        + pm.invoke_overhead_ms;
    let sre = LambdaUse {
        invocations_per_day: s_inv,
        gb_s_per_day: s_inv * s_ms / 1000.0 * pm.sre_memory_mb / 1024.0,
        events_per_invocation_peak: s_events,
        duration_ms_peak: s_ms,
        esm_concurrency: 10.0,
        busy_concurrency_peak: s_inv / 86_400.0 * pm.peak_factor * s_ms / 1000.0,
        log_bytes_per_day: s_inv * (PLATFORM_LOG_BYTES + 300.0),
    };
    (
        Functions {
            qoe,
            features,
            transform,
            sre,
        },
        windows,
    )
}

pub(crate) fn lines(f: &Functions, bill: &mut Bill) {
    let days = DAYS_PER_MONTH;
    for (name, u) in [
        ("qoe-alerts", &f.qoe),
        ("session-features", &f.features),
        ("firehose-transform", &f.transform),
        ("sre-buffer", &f.sre),
    ] {
        let gbs = u.gb_s_per_day * days;
        bill.line(
            "Lambda",
            format!("{name}: compute (arm64)"),
            gbs,
            "GB-s",
            gbs * p("lambda.arm_gb_s"),
            Mode::Both,
        );
    }
    let requests = (f.qoe.invocations_per_day
        + f.features.invocations_per_day
        + f.transform.invocations_per_day
        + f.sre.invocations_per_day)
        * days;
    bill.line(
        "Lambda",
        "requests (all four functions)".into(),
        requests / 1e6,
        "M req",
        requests / 1e6 * p("lambda.request_m"),
        Mode::Both,
    );
}

/// Events in one packed SRE-queue body.
pub(crate) fn sre_events_per_body(pm: &Params) -> f64 {
    (pm.sre_body_bytes / pm.event_bytes.max(1.0))
        .floor()
        .clamp(1.0, playback_domain::event::MAX_EVENTS_PER_RECORD as f64)
}

/// Slice-minutes one sre-buffer batch touches: the assumed spread, but never
/// more than the batch has events (behind a per-request edge a body holds one
/// request's events).
pub(crate) fn sre_slices_per_batch(pm: &Params) -> f64 {
    pm.sre_slices_per_batch
        .min(pm.sre_batch * sre_events_per_body(pm))
}

/// Messages a day on the SRE queue.
pub(crate) fn sre_messages_per_day(pm: &Params, m: &Measured, events_per_day: f64) -> f64 {
    events_per_day * pm.sre_share.unwrap_or(m.sre_share) / sre_events_per_body(pm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_gb_seconds() {
        // 1 000 events at 1 000 ns on a full vCPU (1 769 MB) = 1 ms CPU.
        let pm = Params {
            arm64_cpu_factor: 1.0,
            invoke_overhead_ms: 0.0,
            peak_hours: 24.0,
            peak_factor: 1.0,
            ..Params::default()
        };
        let c = Consumer {
            batch_size: 1000.0,
            batching_window_s: 1.0,
            parallelization: 1.0,
            memory_mb: FULL_VCPU_MB,
            tumbling_s: 0.0,
        };
        // One shard, 1 000 records/s: one full batch a second.
        let u = stream_lambda(
            &pm,
            c,
            1.0,
            86_400_000.0,
            1.0,
            500.0,
            1000.0,
            &|_, _| 0.0,
            &|_| 0.0,
        );
        assert!((u.invocations_per_day - 86_400.0).abs() < 1e-6);
        assert!((u.duration_ms_peak - 1.0).abs() < 1e-9);
        let expect = 86_400.0 * 0.001 * FULL_VCPU_MB / 1024.0;
        assert!((u.gb_s_per_day - expect).abs() < 1e-6);
    }
}
