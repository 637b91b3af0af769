//! SQS (SRE queue, poison-pill DLQ), CloudWatch (logs, alarms, dashboard,
//! EMF metrics) and the KMS key.

use crate::billing::{DAYS_PER_MONTH, GB};
use crate::estimate::{Bill, Mode};
use crate::lambda::Functions;
use crate::measured::Measured;
use crate::params::Params;
use crate::prices::p;
use crate::sizing::Stream;

pub(crate) fn lines(pm: &Params, m: &Measured, s: &Stream, fns: &Functions, bill: &mut Bill) {
    let e_day = s.events_per_day;
    let days = DAYS_PER_MONTH;
    let malformed = pm.malformed_share;
    let share = pm.sre_share.unwrap_or(m.sre_share);
    let msgs = crate::lambda::sre_messages_per_day(pm, m, e_day);

    // ---- SQS ------------------------------------------------------------------------
    // Bodies packed to one 64 KiB billing chunk: a send and a receive per body
    // (a batch call is billed per 64 KiB of payload), a delete per 10, and
    // the poller's empty receives.
    let sqs_req = (msgs * 2.1 + 21_600.0) * days;
    bill.line(
        "SQS",
        format!(
            "SRE queue ({:.0}% of events, {:.0} per {:.0} KiB body): send + receive + delete",
            share * 100.0,
            crate::lambda::sre_events_per_body(pm),
            pm.sre_body_bytes / 1024.0
        ),
        sqs_req / 1e6,
        "M req",
        sqs_req / 1e6 * p("sqs.request_m"),
        Mode::Both,
    );
    let dlq_req = e_day * malformed * 3.0 / 10.0 * days; // three consumers refuse each bad event
    bill.line(
        "SQS",
        format!(
            "poison-pill DLQ ({:.1}% malformed, 3 consumers)",
            malformed * 100.0
        ),
        dlq_req / 1e6,
        "M req",
        dlq_req / 1e6 * p("sqs.request_m"),
        Mode::Both,
    );

    // ---- CloudWatch -----------------------------------------------------------------
    let log_gb = (fns.qoe.log_bytes_per_day
        + fns.features.log_bytes_per_day
        + fns.transform.log_bytes_per_day
        + fns.sre.log_bytes_per_day)
        / GB
        * days;
    bill.line(
        "CloudWatch",
        "Logs ingestion (platform lines, EMF, batch logs)".into(),
        log_gb,
        "GB",
        log_gb * p("cw.logs_ingest_gb"),
        Mode::Both,
    );
    let log_stored = log_gb / days * pm.log_retention_days * 0.15;
    bill.line(
        "CloudWatch",
        format!(
            "Logs storage ({} d retention, ~15% compressed)",
            pm.log_retention_days
        ),
        log_stored,
        "GB-mo",
        log_stored * p("cw.logs_storage_gb_month"),
        Mode::Both,
    );
    bill.line(
        "CloudWatch",
        "alarms".into(),
        pm.alarms,
        "alarms",
        pm.alarms * p("cw.alarm_month"),
        Mode::Both,
    );
    bill.line(
        "CloudWatch",
        "dashboard".into(),
        pm.dashboards,
        "dash",
        pm.dashboards * p("cw.dashboard_month"),
        Mode::Both,
    );
    bill.line(
        "CloudWatch",
        "EMF custom metrics (metric x dimension values)".into(),
        pm.custom_metrics,
        "metrics",
        pm.custom_metrics * p("cw.metric_month"),
        Mode::Both,
    );
    bill.line(
        "KMS",
        "customer managed key (requests negligible with bucket keys)".into(),
        pm.kms_keys,
        "keys",
        pm.kms_keys * p("kms.key_month"),
        Mode::Both,
    );
}
