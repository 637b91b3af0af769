//! Determinism, packing, re-sends, late events, rate and bounds.

use std::collections::HashMap;

use loadgen::{generate, ScenarioConfig};
use playback_domain::{decode_record, Clock, EventType};

fn base() -> ScenarioConfig {
    ScenarioConfig {
        viewers: 300,
        titles: 40,
        rate: 50.0,
        duration_s: Some(120.0),
        ..Default::default()
    }
}

#[test]
fn same_seed_same_records_other_seed_other_records() {
    let cfg = ScenarioConfig {
        bad_firmware: Some("*:0.05".parse().unwrap()),
        retry_rate: 0.02,
        late_rate: 0.02,
        incident: Some("t0001:us-east:30:30:0.3".parse().unwrap()),
        spike: Some("60:20:3".parse().unwrap()),
        ..base()
    };
    let a = generate(&cfg).unwrap();
    let b = generate(&cfg).unwrap();
    assert!(!a.records.is_empty());
    assert_eq!(a.records, b.records);
    assert_eq!(a.manifest, b.manifest);
    let c = generate(&ScenarioConfig { seed: 43, ..cfg }).unwrap();
    assert_ne!(a.records, c.records);
}

#[test]
fn scenario_switches_do_not_reshuffle_the_base_traffic() {
    let plain = generate(&ScenarioConfig {
        pack_bytes: 0,
        ..base()
    })
    .unwrap();
    let faulty = generate(&ScenarioConfig {
        pack_bytes: 0,
        bad_firmware: Some("5.2.0:0.1".parse().unwrap()),
        ..base()
    })
    .unwrap();
    let ids = |m: &loadgen::Manifest| {
        m.lines
            .iter()
            .map(|l| l.event_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&plain.manifest), ids(&faulty.manifest));
}

#[test]
fn packs_stay_within_pack_bytes_and_one_viewer() {
    for pack_bytes in [0, 700, 2_000, 5_000] {
        let g = generate(&ScenarioConfig {
            pack_bytes,
            pack_linger_s: 0.0,
            ..base()
        })
        .unwrap();
        let mut lines_of: HashMap<u64, Vec<&loadgen::LineEntry>> = HashMap::new();
        for l in &g.manifest.lines {
            lines_of.entry(l.record).or_default().push(l);
        }
        for r in &g.records {
            let lines = &lines_of[&r.index];
            let n = r.data.split(|b| *b == b'\n').count();
            assert_eq!(n, lines.len());
            assert!(n <= playback_domain::event::MAX_EVENTS_PER_RECORD);
            if pack_bytes == 0 {
                assert_eq!(n, 1);
            } else if n > 1 {
                assert!(
                    r.data.len() <= pack_bytes,
                    "{} > {pack_bytes}",
                    r.data.len()
                );
            }
            assert!(lines.iter().all(|l| l.viewer_id == r.partition_key));
        }
        if pack_bytes == 5_000 {
            let multi = g.records.iter().filter(|r| r.data.contains(&b'\n')).count();
            assert!(multi * 2 > g.records.len(), "most records are packed");
        }
    }
}

#[test]
fn no_configuration_packs_past_the_contracts_cap() {
    let over = ScenarioConfig {
        pack_bytes: playback_domain::event::MAX_PACK_BYTES + 1,
        ..base()
    };
    let err = match generate(&over) {
        Ok(_) => panic!("refused"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("pack_bytes must be at most 5120"), "{err}");
    let g = generate(&ScenarioConfig {
        pack_bytes: playback_domain::event::MAX_PACK_BYTES,
        pack_buckets: 1,
        pack_linger_s: 60.0,
        ..base()
    })
    .unwrap();
    for r in &g.records {
        let n = r.data.split(|b| *b == b'\n').count();
        assert!(n <= playback_domain::event::MAX_EVENTS_PER_RECORD);
        assert!(n == 1 || r.data.len() <= playback_domain::event::MAX_PACK_BYTES);
    }
}

#[test]
fn bucket_packing_mixes_viewers_but_keeps_each_on_one_partition_key() {
    let per_viewer = generate(&ScenarioConfig {
        pack_linger_s: 2.0,
        ..base()
    })
    .unwrap();
    let edge = generate(&ScenarioConfig {
        pack_linger_s: 2.0,
        pack_buckets: 8,
        ..base()
    })
    .unwrap();
    // Same events, far fewer records.
    assert_eq!(per_viewer.manifest.lines.len(), edge.manifest.lines.len());
    let per_record =
        |g: &loadgen::Generated| g.manifest.lines.len() as f64 / g.records.len() as f64;
    assert!(
        per_record(&edge) > 3.0 * per_record(&per_viewer),
        "{} vs {}",
        per_record(&edge),
        per_record(&per_viewer)
    );
    let mut key_of: HashMap<String, &str> = HashMap::new();
    let mut mixed = 0;
    let clock = Clock::at(edge.manifest.summary.last_emit_ms.unwrap());
    for r in &edge.records {
        assert!(r.data.len() <= 5_000 || !r.data.contains(&b'\n'));
        let viewers: Vec<String> = decode_record(&r.data, clock)
            .into_iter()
            .filter_map(|d| d.result.ok().map(|e| e.viewer_id.to_string()))
            .collect();
        mixed += usize::from(viewers.iter().any(|v| *v != viewers[0]));
        for v in viewers {
            let key = *key_of.entry(v.clone()).or_insert(r.partition_key.as_str());
            assert_eq!(key, r.partition_key, "viewer {v} on two partition keys");
        }
    }
    assert!(
        mixed * 2 > edge.records.len(),
        "most edge records hold several viewers"
    );
    assert!(
        key_of
            .values()
            .collect::<std::collections::HashSet<_>>()
            .len()
            <= 8
    );
}

#[test]
fn records_keep_each_viewers_order_and_emit_time_order() {
    let g = generate(&ScenarioConfig {
        pack_bytes: 3_000,
        ..base()
    })
    .unwrap();
    assert!(g.records.windows(2).all(|w| w[0].emit_ms <= w[1].emit_ms));
    let mut last: HashMap<&str, i64> = HashMap::new();
    for l in &g.manifest.lines {
        let prev = last.insert(l.viewer_id.as_str(), l.event_time_ms);
        assert!(prev.is_none_or(|p| p <= l.event_time_ms), "{}", l.event_id);
    }
    let clock = Clock::at(g.manifest.summary.last_emit_ms.unwrap());
    for r in &g.records {
        for d in decode_record(&r.data, clock) {
            assert_eq!(d.result.unwrap().viewer_id, r.partition_key);
        }
    }
}

#[test]
fn retries_resend_identical_records() {
    let g = generate(&ScenarioConfig {
        retry_rate: 0.05,
        ..base()
    })
    .unwrap();
    let by_index: HashMap<u64, &loadgen::Record> = g.records.iter().map(|r| (r.index, r)).collect();
    let dups: Vec<_> = g
        .records
        .iter()
        .filter(|r| r.duplicate_of.is_some())
        .collect();
    let originals = g.records.len() - dups.len();
    assert!((dups.len() as f64 - 0.05 * originals as f64).abs() <= 1.0);
    for d in &dups {
        let o = by_index[&d.duplicate_of.unwrap()];
        assert_eq!((&o.partition_key, &o.data), (&d.partition_key, &d.data));
        assert!(d.index > o.index && d.emit_ms >= o.emit_ms + 200);
    }
    let m = &g.manifest;
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for l in &m.lines {
        *seen.entry(&l.event_id).or_default() += 1;
    }
    let dup_lines = m.lines.iter().filter(|l| l.duplicate).count();
    assert_eq!(dup_lines as u64, m.summary.duplicate_lines);
    assert_eq!(seen.values().filter(|n| **n == 2).count(), dup_lines);
    assert!(seen.values().all(|n| *n <= 2));
    for l in m.lines.iter().filter(|l| l.duplicate) {
        assert_eq!(seen[l.event_id.as_str()], 2);
    }
}

#[test]
fn late_heartbeats_are_late_hours_old() {
    let cfg = ScenarioConfig {
        late_rate: 0.05,
        late_hours: 6.0,
        pack_bytes: 0,
        ..base()
    };
    let g = generate(&cfg).unwrap();
    let m = &g.manifest;
    let late: Vec<_> = m.lines.iter().filter(|l| l.late).collect();
    let heartbeats = m
        .lines
        .iter()
        .filter(|l| l.event_type == EventType::Heartbeat)
        .count();
    assert!((late.len() as f64 - 0.05 * heartbeats as f64).abs() <= 1.0);
    let clock = Clock::at(m.summary.last_emit_ms.unwrap());
    for l in late {
        assert_eq!(l.event_type, EventType::Heartbeat);
        assert_eq!(l.emit_ms - l.event_time_ms, 6 * 3_600_000);
        let rec = &g.records[l.record as usize];
        let ev = decode_record(&rec.data, clock).remove(0).result.unwrap();
        assert_eq!(ev.event_time_ms, l.event_time_ms);
        assert!(rec.emit_ms - ev.event_time_ms >= 6 * 3_600_000);
    }
}

#[test]
fn rate_follows_the_target_and_the_spike() {
    let cfg = ScenarioConfig {
        rate: 80.0,
        duration_s: Some(300.0),
        spike: Some("120:60:5".parse().unwrap()),
        pack_bytes: 0,
        ..base()
    };
    let g = generate(&cfg).unwrap();
    let per_s = |from: i64, to: i64| {
        let n = g
            .manifest
            .lines
            .iter()
            .filter(|l| {
                let t = l.emit_ms - cfg.start_time_ms;
                t >= from * 1_000 && t < to * 1_000
            })
            .count();
        n as f64 / (to - from) as f64
    };
    let before = per_s(20, 120);
    let during = per_s(130, 180);
    let after = per_s(200, 300);
    assert!((before - 80.0).abs() < 12.0, "before {before}");
    assert!((during / before - 5.0).abs() < 1.0, "during {during}");
    assert!((after - 80.0).abs() < 15.0, "after {after}");
}

#[test]
fn event_count_bound_is_exact() {
    let cfg = ScenarioConfig {
        events: Some(1_234),
        duration_s: None,
        pack_bytes: 0,
        ..base()
    };
    let g = generate(&cfg).unwrap();
    assert_eq!(g.records.len(), 1_234);
    assert_eq!(g.manifest.summary.events, 1_234);
    let ids: std::collections::HashSet<_> = g.manifest.lines.iter().map(|l| &l.event_id).collect();
    assert_eq!(ids.len(), 1_234, "event ids are unique");
}
