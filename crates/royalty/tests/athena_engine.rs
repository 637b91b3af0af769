//! The Athena engine's plumbing against the emulator: StartQueryExecution,
//! GetQueryExecution polling (moto moves QUEUED -> RUNNING -> SUCCEEDED),
//! GetQueryResults with the header row, and a whole close whose three
//! statements (ledger DDL, UNLOAD, report SELECT) Athena receives. moto runs
//! no SQL: the report rows are canned through its moto-api, so this test is
//! moto-only: against another emulator (LocalStack has no /moto-api/) it
//! prints `SKIPPED(moto-only): <test>: <reason>`, which `make test` counts as
//! skipped. An emulator test, run by `make test`.

use std::io::{Read, Write};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use royalty::params::parse_day;
use royalty::{close_day, AthenaEngine, CloseConfig, Store};
use serde_json::{json, Value};

/// The status code of `GET path` on the emulator (plain HTTP, as the
/// emulators here speak), or None if nothing answers.
fn http_status(endpoint: &str, path: &str) -> Option<u16> {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
        .ok()?
        .next()?;
    let mut conn = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    conn.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// Why this emulator cannot serve a moto-only test, or None for moto.
fn not_moto(endpoint: &str) -> Option<String> {
    // The dashboard page, not /moto-api/data.json: that one dumps every
    // backend's state and answers 500 once other tests' resources are there.
    match http_status(endpoint, "/moto-api/") {
        Some(200) => None,
        Some(code) => Some(format!(
            "{endpoint} is not moto (GET /moto-api/: {code}); \
             canned Athena results need moto's /moto-api/static/athena/query-results"
        )),
        None => Some(format!("{endpoint} did not answer GET /moto-api/")),
    }
}

/// Reports a skipped moto-only test on stderr itself, not through
/// `eprintln!`, which the test harness captures for passing tests: the line
/// must reach the log that `make test` counts.
fn skip_moto_only(test: &str, why: &str) {
    let line = format!("SKIPPED(moto-only): {test}: {why}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Queues canned Athena results on moto (one per future query).
fn queue_results(endpoint: &str, results: Value) -> Result<()> {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let body = json!({ "results": results }).to_string();
    let mut conn = std::net::TcpStream::connect(host)?;
    write!(
        conn,
        "POST /moto-api/static/athena/query-results HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    conn.read_to_string(&mut reply)?;
    ensure!(reply.starts_with("HTTP/1.1 201"), "moto-api: {reply}");
    Ok(())
}

fn result(rows: &[&[&str]], columns: &[&str]) -> Value {
    let info: Vec<Value> = columns
        .iter()
        .map(|c| json!({"Name": c, "Label": c, "Type": "varchar", "Nullable": "UNKNOWN"}))
        .collect();
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| json!({"Data": r.iter().map(|v| json!({"VarCharValue": v})).collect::<Vec<_>>()}))
        .collect();
    json!({"rows": rows, "column_info": info})
}

#[tokio::test]
#[ignore = "emulator: run via make test"]
async fn athena_close_sends_ddl_unload_and_report_and_reads_paged_results() -> Result<()> {
    const TEST: &str = "athena_close_sends_ddl_unload_and_report_and_reads_paged_results";
    let endpoint = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "{TEST}: AWS_ENDPOINT_URL is not set. This is an emulator test: run it with \
             `make test`, or `scripts/with-emulator.sh cargo test -p royalty -- --ignored`"
        ),
    };
    if let Some(why) = not_moto(&endpoint) {
        skip_moto_only(TEST, &why);
        return Ok(());
    }
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = playback_aws::s3_client(&shared);
    let athena = aws_sdk_athena::Client::new(&shared);
    let bucket = format!("royalty-athena-it-{}", std::process::id());
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .context("create bucket")?;
    let store = Store::new(s3, &bucket);
    let mut engine = AthenaEngine::new(athena.clone(), "primary", "playback");
    engine.first_poll = Duration::from_millis(10);

    // A stale object from a crashed run: UNLOAD needs the partition empty.
    let stale = "royalty/ledger/close_id=2026-03-01/20260302_old.parquet";
    store
        .put(stale, b"old".to_vec(), "application/octet-stream")
        .await?;

    let cols = ["title_id", "event_day", "watched_ms", "events"];
    queue_results(
        &endpoint,
        json!([
            result(&[], &[]),
            result(
                &[&["snapshot_id"], &["7150000000000000001"]],
                &["snapshot_id"]
            ),
            result(&[], &[]),
            result(
                &[
                    &cols,
                    &["t-2", "2026-03-01", "90000", "3"],
                    &["t-1", "2026-02-27", "61000", "1"]
                ],
                &cols
            ),
        ]),
    )?;
    let cfg = CloseConfig::new(&bucket, "royalty/", "royalty/ledger/");
    let day = parse_day("2026-03-01")?;
    let out = close_day(&engine, &store, &cfg, day).await?;

    let csv = String::from_utf8(store.get(&out.csv_key).await?)?;
    assert_eq!(
        csv,
        "title_id,event_day,minutes,watched_ms,events,close_id\n\
         t-1,2026-02-27,1.017,61000,1,2026-03-01\n\
         t-2,2026-03-01,1.500,90000,3,2026-03-01\n"
    );
    assert!(
        store.list(&out.ledger_prefix).await?.is_empty(),
        "stale ledger object kept"
    );

    // What Athena was asked, in order.
    let ids = athena
        .list_query_executions()
        .work_group("primary")
        .send()
        .await?;
    let mut ours = Vec::new();
    for id in ids.query_execution_ids() {
        let q = athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await?;
        let sql = q
            .query_execution()
            .and_then(|e| e.query())
            .unwrap_or_default()
            .to_string();
        if sql.contains(&bucket)
            || sql.contains("close_id = '2026-03-01'")
            || sql.contains("events_canonical$snapshots")
        {
            ours.push(sql);
        }
    }
    let sent = |what: &str, parts: &[&str]| {
        let hit = ours.iter().any(|s| parts.iter().all(|p| s.contains(p)));
        assert!(hit, "no {what} among {ours:#?}");
    };
    let ledger = format!("s3://{bucket}/royalty/ledger/");
    let ddl = format!("LOCATION '{ledger}'");
    sent(
        "ledger DDL",
        &[
            "CREATE EXTERNAL TABLE IF NOT EXISTS playback.royalty_ledger",
            &ddl,
        ],
    );
    let to = format!(") TO '{ledger}close_id=2026-03-01/' WITH (format = 'PARQUET'");
    let cutoff = "ingest_time < CAST('2026-03-02 01:00:00' AS TIMESTAMP)";
    sent(
        "UNLOAD",
        &[
            "UNLOAD (SELECT * FROM (",
            &to,
            cutoff,
            "close_id < '2026-03-01'",
            "events_canonical FOR VERSION AS OF 7150000000000000001",
        ],
    );
    sent(
        "snapshot lookup",
        &["FROM playback.\"events_canonical$snapshots\""],
    );
    let record: Value = serde_json::from_slice(
        &store
            .get("royalty/reports/close_id=2026-03-01/close.json")
            .await?,
    )?;
    assert_eq!(record["snapshot_id"], "7150000000000000001");
    assert_eq!(out.snapshot_id, "7150000000000000001");
    sent(
        "report",
        &[
            "FROM playback.royalty_ledger",
            "close_id = '2026-03-01'",
            "GROUP BY",
        ],
    );
    Ok(())
}
