//! The short fault-injection run of `make test` (the full one is `make
//! chaos`): five SIGKILLs of the local runner, one during a window flush and
//! one during a lake landing, and every promise checked after.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "emulator: run via make test"]
async fn five_kills_lose_nothing_and_count_nothing_twice() -> anyhow::Result<()> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        panic!("emulator test: AWS_ENDPOINT_URL is unset (run it through `make test`)");
    }
    let aws = playback_aws::load_aws_config().await;
    let cfg = demo::chaos::ChaosConfig {
        runner: env!("CARGO_BIN_EXE_chaos-runner").into(),
        kills: 5,
        duration_s: 30.0,
        rate: 50.0,
        viewers: 250,
        seed: 11,
        out_dir: std::env::temp_dir().join(format!("chaos-test-{}", std::process::id())),
    };
    let report = demo::chaos::run(&aws, &cfg).await?;
    report.print();
    assert_eq!(report.kills.len(), 5);
    assert!(report.kills[0].contains("window-flush") && report.kills[1].contains("lake-landing"));
    assert!(report.valid_events > 500, "a real scenario");
    assert_eq!(report.failures(), Vec::<String>::new());
    Ok(())
}
