//! The SRE path's part of the demo: the incidents sre-buffer opened from the
//! SQS quality queue, the bad release's detection latency from its first
//! failing event, the pages delivered to the on-call's queue, and no
//! incident a fault does not explain.

use anyhow::Result;
use loadgen::{BadRelease, Incident as QoeIncident, Manifest};
use local_pipeline::{Resources, Topology};
use playback_domain::sre::incident::Incident;
use playback_domain::sre::IncidentKind;

use testkit::inspect;

/// Why an incident is there: the bad release, the title's rebuffering
/// incident (it stalls every slice of its region that watches the title), or
/// nothing injected (a false incident).
pub fn cause(i: &Incident, release: &BadRelease, qoe: &QoeIncident) -> &'static str {
    let k = &i.key;
    if release.in_slice(&k.region, &k.device_platform, &k.app_version) {
        "bad release"
    } else if i.kind == IncidentKind::RebufferStarts && k.region == qoe.region {
        "title incident"
    } else {
        "none (false)"
    }
}

/// Prints the section; returns the checks (passed, what).
pub async fn show(
    aws: &aws_config::SdkConfig,
    t: &Topology,
    r: &Resources,
    manifest: &Manifest,
    qoe: &QoeIncident,
) -> Result<Vec<(bool, String)>> {
    let Some(release) = manifest.config.bad_release.clone() else {
        return Ok(Vec::new());
    };
    let rule = &t.sre;
    println!(
        "\n==> SRE incidents (a slice-minute's rate, at its lower bound z = {}, above max(floor, {} x its last {} min); min {} attempts / {} session-min)",
        rule.confidence_z, rule.margin, rule.baseline_minutes, rule.min_attempts, rule.min_session_minutes
    );
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    let mut incidents = inspect::incidents(&dynamo, &r.sre_table).await?;
    incidents.sort_by_key(|i| i.opened_at_ms);
    let first = manifest.bad_release_first_failure_ms();
    for i in &incidents {
        let k = &i.key;
        let state = match i.resolved_minute_ms {
            Some(m) => format!("resolved at minute {}", crate::report::utc(m)),
            None => format!("open (resolves after {} quiet minutes)", rule.quiet_minutes),
        };
        println!(
            "    {}/{}/{}  {:<20} peak {:.3} vs threshold {:.3} (baseline {:.3})  opened {}  cause: {}  {state}",
            k.region, k.device_platform, k.app_version, i.kind.as_str(), i.peak_rate, i.threshold,
            i.baseline_rate, crate::report::utc(i.opened_at_ms), cause(i, &release, qoe)
        );
    }
    let mut checks = Vec::new();
    let detected = incidents
        .iter()
        .filter(|i| cause(i, &release, qoe) == "bad release")
        .map(|i| i.opened_at_ms)
        .min();
    match (first, detected) {
        (Some(f), Some(d)) => {
            let latency = (d - f) as f64 / 1_000.0;
            println!(
                "    bad release {}/{}/{}: first failing event {}, incident opened {}: detection latency {latency:.1} s",
                release.region, release.device_platform, release.app_version, crate::report::utc(f), crate::report::utc(d)
            );
            checks.push((
                latency <= 60.0,
                format!("the bad release was detected in {latency:.1} s (<= 60 s)"),
            ));
        }
        (f, d) => checks.push((
            false,
            format!("the bad release was detected (first failure {f:?}, incident {d:?})"),
        )),
    }
    let false_ones = incidents
        .iter()
        .filter(|i| cause(i, &release, qoe) == "none (false)")
        .count();
    checks.push((
        false_ones == 0,
        format!("no incident a fault does not explain ({false_ones} false)"),
    ));
    if let Some(url) = &r.pages_queue_url {
        let sqs = aws_sdk_sqs::Client::new(aws);
        let pages = inspect::sre_pages(&inspect::drain_queue(&sqs, url).await?);
        // Paging is at least once (a batch retried between the publish and
        // `notified` pages again); the pager dedups on the incident's key.
        let key = |i: &Incident| {
            format!(
                "{} {} {}",
                i.kind.as_str(),
                i.key.dimensions(),
                i.key.minute_ms
            )
        };
        let paged: std::collections::BTreeSet<String> = pages.iter().map(key).collect();
        let opened: std::collections::BTreeSet<String> = incidents.iter().map(key).collect();
        checks.push((
            paged == opened,
            format!(
                "every incident paged the on-call queue ({} incidents, {} pages, {} repeated deliveries)",
                opened.len(),
                pages.len(),
                pages.len() - paged.len()
            ),
        ));
    }
    Ok(checks)
}
