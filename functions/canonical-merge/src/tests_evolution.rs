//! The ensure-table step on a table of an older schema (the fake engine of
//! the parent module).

use super::*;

#[tokio::test]
async fn a_table_of_an_older_schema_gains_the_missing_columns_in_place() {
    // A v1 table: every column but startup_ms.
    let v1: Vec<&'static str> = (sql::table_columns().unwrap().into_iter())
        .map(|(n, _)| n)
        .filter(|n| *n != "startup_ms")
        .collect();
    let fake = Fake {
        watermark: Some("2026-03-02 10:00:00".into()),
        days: vec!["2026-03-02"],
        columns: Some(v1),
        ..Fake::default()
    };
    let r = job::run(&fake, &cfg(), Action::Merge, now(), &Metrics::memory())
        .await
        .unwrap();
    assert_eq!(
        fake.kinds(),
        with_hot(&["create", "columns", "alter", "watermark", "days", "merge"])
    );
    assert!(r.merged);
    let seen = fake.seen();
    assert!(seen[1].contains(
        "FROM information_schema.columns WHERE table_schema = 'playback' \
         AND table_name = 'events_canonical'"
    ));
    let alter: Vec<&str> = (seen[2].lines())
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect();
    assert_eq!(
        alter,
        ["ALTER TABLE playback.events_canonical ADD COLUMNS (startup_ms bigint)"]
    );
    // The MERGE then writes the new column.
    assert!(seen[5].contains("s.startup_ms"));

    // An answer without columns is not read as "every column is missing".
    let fake = Fake {
        columns: Some(vec![]),
        ..Fake::default()
    };
    let got = job::run(&fake, &cfg(), Action::Merge, now(), &Metrics::memory()).await;
    assert!(matches!(got, Err(JobError::Answer(_))), "{got:?}");
    assert_eq!(fake.kinds(), ["create", "columns"]);
}
