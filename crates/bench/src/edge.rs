//! The collector's CPU per request (functions/collector): the load
//! generator's events as players send them, a viewer's events n at a time
//! in one `POST /v1/events`, through `Collector::handle` on the in-memory
//! twins. What it leaves out (TLS, SigV4, the SDK's HTTP) is paid by AWS's
//! side of a function URL and, on Fargate, by the ALB.

use std::collections::BTreeMap;

use bytes::Bytes;
use collector::auth::header_value;
use collector::memory::{MemoryKeyStore, MemorySreQueue, MemoryStream};
use collector::Collector;
use loadgen::Generated;
use playback_aws::emf::Metrics;
use playback_domain::memory::MemoryDeadLetters;
use playback_domain::Clock;
use tokio::runtime::Runtime;

use crate::handlers::{Measurement, Plan};
use crate::timing::repeat;

/// Events per request the cost model prices (issue 14: 1, 5, 20).
pub const EVENTS_PER_REQUEST: [usize; 3] = [1, 5, 20];
const APP: (&str, &str, &str) = ("bench", "k1", "bench-key");

type Twin = Collector<MemoryKeyStore, MemoryStream, MemorySreQueue, MemoryDeadLetters>;

fn twin() -> Twin {
    let keys = MemoryKeyStore::default().with_key(APP.0, APP.1, APP.2);
    Collector::new(
        keys,
        MemoryStream::default(),
        MemorySreQueue::default(),
        MemoryDeadLetters::default(),
        // Built as stdout would be (JSON per document), kept in memory.
        Metrics::memory(),
    )
}

/// Each viewer's event lines, in emit order, as NDJSON bodies of `n`.
/// Also the number of events they carry.
pub fn bodies(run: &Generated, n: usize) -> (Vec<Bytes>, usize) {
    let mut by_viewer: BTreeMap<&str, Vec<&[u8]>> = BTreeMap::new();
    for r in run.records.iter().filter(|r| r.duplicate_of.is_none()) {
        let lines = r.data.split(|b| *b == b'\n').filter(|l| !l.is_empty());
        by_viewer.entry(&r.partition_key).or_default().extend(lines);
    }
    let mut out = Vec::new();
    let events = by_viewer.values().map(Vec::len).sum();
    for lines in by_viewer.values() {
        for chunk in lines.chunks(n) {
            // NDJSON: a malformed line (the generator's bad builds) is one
            // rejected event, not an unusable body.
            let mut body = Vec::with_capacity(chunk.iter().map(|l| l.len() + 1).sum());
            for l in chunk {
                body.extend_from_slice(l);
                body.push(b'\n');
            }
            out.push(Bytes::from(body));
        }
    }
    (out, events)
}

fn request(auth: &str, body: Bytes) -> http::Request<Bytes> {
    http::Request::post(collector::PATH)
        .header("content-type", "application/x-ndjson")
        .header("authorization", auth)
        .body(body)
        .expect("a valid request")
}

/// One measurement per entry of [`EVENTS_PER_REQUEST`]; units are requests.
pub fn measure_collector(rt: &Runtime, run: &Generated, clock: Clock, p: Plan) -> Vec<Measurement> {
    let auth = header_value(APP.0, APP.1, APP.2);
    EVENTS_PER_REQUEST
        .iter()
        .map(|&n| {
            let (bodies, events) = bodies(run, n);
            let stats = repeat(p.warmup, p.runs, bodies.len() as u64, twin, |c| {
                rt.block_on(async {
                    for b in &bodies {
                        let resp = c.handle_at(request(&auth, b.clone()), clock.now_ms).await;
                        assert_eq!(resp.status(), 200, "{}", resp.body());
                    }
                });
                c
            });
            Measurement {
                name: format!("collector e2e, {n} events/request"),
                what: "POST /v1/events body -> auth + validate + enrich + pack + PutRecords/SQS twins -> response JSON; units are requests".into(),
                events,
                records: bodies.len(),
                stats,
            }
        })
        .collect()
}

/// CPU ns of a request: a fixed part and a part per event, fitted on the
/// smallest and largest requests measured.
pub fn cpu_fit(per_request_ns: &[(usize, f64)]) -> (f64, f64) {
    let (Some(&(n0, c0)), Some(&(n1, c1))) = (per_request_ns.first(), per_request_ns.last()) else {
        return (0.0, 0.0);
    };
    if n1 <= n0 {
        return (c0, 0.0);
    }
    let per_event = ((c1 - c0) / (n1 - n0) as f64).max(0.0);
    ((c0 - per_event * n0 as f64).max(0.0), per_event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fit_recovers_a_fixed_and_a_per_event_cost() {
        let (base, per) = cpu_fit(&[(1, 12_000.0), (5, 16_000.0), (20, 31_000.0)]);
        assert!((per - 1_000.0).abs() < 1e-9 && (base - 11_000.0).abs() < 1e-9);
        assert_eq!(cpu_fit(&[]), (0.0, 0.0));
    }
}
