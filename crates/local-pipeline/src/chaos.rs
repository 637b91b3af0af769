//! Named moments for the fault-injection run (`make chaos`): with
//! `PLAYBACK_CHAOS_POINTS` set, the runner announces each one on stderr
//! (`chaos-point <name>`) and holds for `PLAYBACK_CHAOS_HOLD_MS` (default
//! 300), so a driver watching stderr can SIGKILL it in the middle of a window
//! flush or a lake landing. Unset: nothing happens.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

struct Points {
    names: Vec<String>,
    hold: Duration,
}

fn points() -> Option<&'static Points> {
    static P: OnceLock<Option<Points>> = OnceLock::new();
    P.get_or_init(|| {
        let names = std::env::var("PLAYBACK_CHAOS_POINTS").ok()?;
        let hold = std::env::var("PLAYBACK_CHAOS_HOLD_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        Some(Points {
            names: names.split(',').map(|s| s.trim().to_string()).collect(),
            hold: Duration::from_millis(hold),
        })
    })
    .as_ref()
}

/// Announces `name` and holds, when the chaos run asked for it.
pub async fn point(name: &str) {
    let Some(p) = points() else { return };
    if !p.names.iter().any(|n| n == name || n == "all") {
        return;
    }
    announce(name);
    tokio::time::sleep(p.hold).await;
}

fn announce(name: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "chaos-point {name}");
    let _ = err.flush();
}
