//! The short load test of `make test` (the full one is `make load-collector`):
//! players POST to the local collector while a fault double refuses 10 % of
//! PutRecords entries; every valid event must reach the stream.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "emulator: run via make test"]
async fn under_partial_put_records_failures_every_valid_event_reaches_the_stream(
) -> anyhow::Result<()> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        panic!("emulator test: AWS_ENDPOINT_URL is unset (run it through `make test`)");
    }
    let aws = playback_aws::load_aws_config().await;
    let cfg = demo::collector_load::LoadConfig {
        events: 5_000,
        rate: 1_000.0,
        viewers: 10_000,
        seed: 3,
        put_failure_rate: 0.1,
        linger: std::time::Duration::from_millis(200),
        out_dir: std::env::temp_dir().join(format!("load-test-{}", std::process::id())),
    };
    let report = demo::collector_load::run(&aws, &cfg).await?;
    report.print();
    assert!(
        report.valid_events >= 4_900,
        "a real load: {}",
        report.valid_events
    );
    assert!(report.injected_failures > 0 && report.collector.requests > 1_000);
    assert!(report.lines_in_stream >= report.distinct_in_stream);
    assert_eq!(report.failures(), Vec::<String>::new());
    Ok(())
}
