use super::*;
use crate::{estimate, per_billion, Mode};

fn measured() -> Measured {
    Measured {
        collector_cpu_ns_per_request: 30_000.0,
        collector_cpu_ns_per_event: 5_000.0,
        ..Measured::default()
    }
}

fn usd(lines: &[EdgeLine]) -> f64 {
    lines.iter().map(|l| l.usd).sum()
}

#[test]
fn a_function_url_request_bills_its_cpu_share_and_the_stream_wait() {
    let pm = Params::default();
    let m = measured();
    // (30 + 1.5 x 5) us x 1.2 (arm64) = 45 us of CPU, at 128/1769 of a vCPU = 0.622 ms;
    // + max(20 ms PutRecords, 10 ms SQS) + 1 ms of invoke = 21.6 -> 22 ms billed.
    assert!((cpu_ns_per_request(&pm, &m, 1.5) - 45_000.0).abs() < 1e-6);
    assert_eq!(lambda_billed_ms(&pm, &m, 1.5), 22.0);
    let lines = edge_lines(&pm, &m, EdgeHost::FunctionUrl, 1.5);
    let lambda = lines
        .iter()
        .find(|l| l.item.contains("collector Lambda"))
        .expect("lambda");
    let requests = 2e9 * DAYS_PER_MONTH / 1.5;
    let gb_s = requests * 0.022 * 0.125;
    assert!((lambda.quantity - gb_s).abs() / gb_s < 1e-12);
    let want = gb_s * p("lambda.arm_gb_s") + requests / 1e6 * 0.20;
    assert!((lambda.usd - want).abs() < 1e-6);
    // The function URL adds no charge of its own; an HTTP API adds its requests.
    let api = edge_lines(&pm, &m, EdgeHost::HttpApi, 1.5);
    assert!((usd(&api) - usd(&lines) - http_api_usd(requests)).abs() < 1e-6);
}

#[test]
fn http_api_requests_step_down_their_tiers() {
    assert!((http_api_usd(100e6) - 100.0).abs() < 1e-9);
    assert!((http_api_usd(1e9) - (300.0 + 630.0)).abs() < 1e-9);
    assert!((http_api_usd(2e9) - (300.0 + 630.0 + 800.0)).abs() < 1e-9);
}

#[test]
fn more_events_per_request_cut_the_per_request_lines() {
    let pm = Params::default();
    let m = measured();
    for host in [EdgeHost::FunctionUrl, EdgeHost::HttpApi] {
        let (one, five, twenty) = (
            usd(&edge_lines(&pm, &m, host, 1.0)),
            usd(&edge_lines(&pm, &m, host, 5.0)),
            usd(&edge_lines(&pm, &m, host, 20.0)),
        );
        assert!(
            one > 3.0 * five && five > 2.0 * twenty,
            "{host:?}: {one} {five} {twenty}"
        );
    }
}

#[test]
fn fargate_tasks_follow_the_load_above_the_minimum() {
    let pm = Params::default();
    let m = measured();
    // 2e9 / 86 400 / 1.5 = 15 432 requests/s; the peak (x5) at 45 us and 60 %
    // CPU needs 5.8 vCPU -> 12 tasks of 0.5; off-peak 0.64 x -> 0.75 vCPU -> the minimum 2.
    let h = fargate_task_hours(&pm, &m, 1.5);
    assert!(
        (h - (12.0 * 2.0 + 2.0 * 22.0) * DAYS_PER_MONTH).abs() < 1e-6,
        "{h}"
    );
    let lines = edge_lines(&pm, &m, EdgeHost::Fargate, 1.5);
    let alb = lines.iter().find(|l| l.item.contains("ALB")).expect("alb");
    // Active connections dominate: 231 k players / 3 000 = 77 LCU.
    let players = 2e9 / 86_400.0 / 0.1;
    assert!((alb.quantity - players / 3000.0 * HOURS_PER_MONTH).abs() < 1e-6);
}

#[test]
fn cognito_direct_has_no_edge_but_pays_kms_per_player() {
    let pm = Params::default();
    let lines = edge_lines(&pm, &measured(), EdgeHost::CognitoDirect, 1.5);
    assert_eq!(lines.len(), 1);
    let players = 2e9 / 86_400.0 / 0.1;
    let want = players * 12.0 * HOURS_PER_MONTH / 1e4 * 0.03;
    assert!((lines[0].usd - want).abs() < 1e-6);
}

#[test]
fn behind_a_lambda_a_record_holds_one_request_and_fargate_packs() {
    let pm = Params::default();
    let m = measured();
    let lambda = estimate(&behind(&pm, EdgeHost::FunctionUrl, 1.5), &m, true);
    let fargate = estimate(&behind(&pm, EdgeHost::Fargate, 1.5), &m, true);
    assert_eq!(lambda.events_per_record, 1.5);
    assert_eq!(fargate.events_per_record, pm.packed_events_per_record());
    // Fewer, fuller records: the rest of the bill is cheaper behind Fargate.
    let rest = |e: &crate::Estimate| {
        e.lines
            .iter()
            .filter(|l| l.service != "Edge" && l.mode != Mode::Provisioned)
            .map(|l| l.usd)
            .sum::<f64>()
    };
    assert!(rest(&fargate) < rest(&lambda));
    // The bill carries the deployed host's lines.
    let e = estimate(&pm, &m, true);
    let edge: f64 = e
        .lines
        .iter()
        .filter(|l| l.service == "Edge")
        .map(|l| l.usd)
        .sum();
    assert!((edge - usd(&edge_lines(&pm, &m, EdgeHost::FunctionUrl, 1.5))).abs() < 1e-9);
    assert!(per_billion(&pm, edge) > 0.0);
}

#[test]
fn hosts_parse_by_name() {
    assert_eq!("fargate".parse::<EdgeHost>(), Ok(EdgeHost::Fargate));
    assert!("alb"
        .parse::<EdgeHost>()
        .unwrap_err()
        .contains("function-url"));
}

#[test]
fn a_small_fleet_picks_the_lambda_and_a_large_one_fargate() {
    let m = measured();
    let all_in = |events_per_day: f64, host| {
        let pm = Params {
            events_per_day,
            ..Params::default()
        };
        estimate(&behind(&pm, host, 1.5), &m, true).total(Mode::OnDemand)
    };
    // Fargate's floor (two tasks, one ALB) outweighs a small fleet's requests ...
    assert!(all_in(1e5, EdgeHost::FunctionUrl) < all_in(1e5, EdgeHost::Fargate));
    // ... and packing across viewers wins at 2 B events/day.
    assert!(all_in(2e9, EdgeHost::Fargate) < all_in(2e9, EdgeHost::FunctionUrl));
}

#[test]
fn fargate_pays_its_interface_endpoints_by_the_hour_and_the_gb() {
    let pm = Params::default();
    let lines = edge_lines(&pm, &measured(), EdgeHost::Fargate, 1.5);
    let vpce = lines
        .iter()
        .find(|l| l.item.contains("interface endpoints"))
        .expect("endpoints");
    // 2e9 x 30.4 days x 400 B, twice (Kinesis, then SQS for the quality events: an upper bound).
    let gb = 2e9 * DAYS_PER_MONTH * 400.0 * 2.0 / GB;
    assert!((vpce.quantity - gb).abs() < 1e-6);
    assert!((vpce.usd - (5.0 * 2.0 * HOURS_PER_MONTH * 0.01 + gb * 0.01)).abs() < 1e-6);
}
