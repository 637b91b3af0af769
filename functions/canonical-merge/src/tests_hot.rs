//! The hot tier's statements after a merge and in the daily optimize, and
//! the canonical watermark's two reads (the fake engine of the parent module).

use super::*;

#[tokio::test]
async fn optimize_compacts_and_expires_old_hot_hours_vacuum_runs_once() {
    let fake = Fake {
        hot_watermark: Some("2026-03-02 11:40:00.123456".into()),
        ..Fake::default()
    };
    job::run(&fake, &cfg(), Action::Optimize, now(), &Metrics::memory())
        .await
        .unwrap();
    job::run(&fake, &cfg(), Action::Vacuum, now(), &Metrics::memory())
        .await
        .unwrap();
    let seen = fake.seen();
    assert_eq!(
        seen[0],
        "OPTIMIZE playback.events_canonical REWRITE DATA USING BIN_PACK \
         WHERE event_time >= TIMESTAMP '2026-02-28 00:00:00'"
    );
    let kinds = fake.kinds();
    assert_eq!(
        kinds[1..],
        [
            "hot-watermark",
            "hot-expire",
            "hot-watermark",
            "hot-expire",
            "hot-watermark",
            "hot-expire",
            "vacuum"
        ]
    );
    for (stmt, (table, _)) in seen
        .iter()
        .filter(|s| kind(s) == "hot-expire")
        .zip(crate::hot::ROLLUPS)
    {
        assert!(
            stmt.contains(&format!("DELETE FROM playback.{table}")),
            "{stmt}"
        );
        assert!(stmt.contains("event_hour < CAST('2026-02-23 00:00:00' AS TIMESTAMP)"));
        // The rows holding the watermark stay, so it never moves back.
        assert!(stmt.contains("max_ingest_time < CAST('2026-03-02 11:40:00.123456' AS TIMESTAMP)"));
    }
    assert_eq!(seen.last().unwrap(), "VACUUM playback.events_canonical");
}

#[tokio::test]
async fn each_rollup_adds_the_rows_after_its_own_watermark() {
    let fake = Fake {
        watermark: Some("2026-03-02 10:00:00".into()),
        hot_watermark: Some("2026-03-02 09:15:00.250".into()),
        days: vec!["2026-03-02"],
        ..Fake::default()
    };
    job::run(&fake, &cfg(), Action::Merge, now(), &Metrics::memory())
        .await
        .unwrap();
    let seen = fake.seen();
    let merges: Vec<&String> = seen.iter().filter(|s| kind(s) == "hot-merge").collect();
    assert_eq!(merges.len(), 3);
    for (m, (table, _)) in merges.iter().zip(crate::hot::ROLLUPS) {
        assert!(m.contains(&format!("MERGE INTO playback.{table} AS t")));
        // Microseconds: a rounded watermark would add rows twice.
        assert!(m.contains("ingest_time > CAST('2026-03-02 09:15:00.250000' AS TIMESTAMP)"));
        assert!(m.contains("event_time >= CAST('2026-02-23 00:00:00' AS TIMESTAMP)"));
    }
    let creates = seen.iter().filter(|s| kind(s) == "hot-create");
    for c in creates {
        assert!(c.contains("LOCATION 's3://lake-bucket/hot/"), "{c}");
    }
}

// Schema evolution of the ensure-table step.

#[tokio::test]
async fn the_watermark_reads_recent_arrivals_first_and_the_lookback_only_when_stalled() {
    let fake = Fake {
        watermark: Some("2026-03-02 11:30:00".into()),
        days: vec!["2026-03-02"],
        ..Fake::default()
    };
    job::run(&fake, &cfg(), Action::Merge, now(), &Metrics::memory())
        .await
        .unwrap();
    let seen = fake.seen();
    let reads: Vec<&String> = seen.iter().filter(|s| kind(s) == "watermark").collect();
    assert_eq!(reads.len(), 1, "a recent row answers at once");
    // horizon 11:50 - 4 merge intervals (60 min); event days from horizon - 3 days.
    assert!(reads[0].contains("ingest_time > CAST('2026-03-02 10:50:00.000' AS TIMESTAMP)"));
    assert!(reads[0].contains("event_time >= CAST('2026-02-27 00:00:00.000' AS TIMESTAMP)"));

    let stalled = Fake {
        watermark: Some("2026-03-01 08:00:00".into()),
        stalled: true,
        days: vec!["2026-03-02"],
        ..Fake::default()
    };
    let r = job::run(&stalled, &cfg(), Action::Merge, now(), &Metrics::memory())
        .await
        .unwrap();
    let seen = stalled.seen();
    let reads: Vec<&String> = seen.iter().filter(|s| kind(s) == "watermark").collect();
    assert_eq!(reads.len(), 2, "nothing recent: the whole lookback");
    assert!(reads[1].contains("ingest_time > CAST('1970-01-01 00:00:00.000' AS TIMESTAMP)"));
    assert_eq!(
        r.watermark,
        Some(job::parse_ts("2026-03-01 08:00:00").unwrap())
    );
}
