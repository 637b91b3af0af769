//! RESULTS.md sections of the release artifacts (crate::artifacts): zip sizes
//! and local init time.

use std::fmt::Write as _;

use super::numbers::{f0, mb};
use super::{Results, ZIP_TARGET_BYTES};

/// The zips `make build` left on disk, against the 5 MB target.
pub(super) fn zips(s: &mut String, r: &Results) {
    let _ = writeln!(s, "## Release zips (`make build`: arm64, cargo-lambda)\n");
    if r.zips.is_empty() {
        let _ = writeln!(
            s,
            "No target/lambda/*/bootstrap.zip found (run `make build`).\n"
        );
    } else {
        let _ = writeln!(
            s,
            "Measured as found on disk; `make bench` does not rebuild them. Target <= {} (read as \
             5 000 000 bytes); {} of {} are under 5 MiB = 5 242 880 bytes. cargo lambda already \
             links with thin LTO and one codegen unit; the other levers: [PROFILE.md](PROFILE.md).\n",
            mb(ZIP_TARGET_BYTES),
            r.zips.iter().filter(|z| z.bytes <= 5 * 1024 * 1024).count(),
            r.zips.len()
        );
        let _ = writeln!(
            s,
            "| Function | Zip | Unzipped | vs 5 MB | Built |\n|---|---:|---:|---|---|"
        );
        for z in &r.zips {
            let _ = writeln!(
                s,
                "| {} | {} ({} B) | {} | {} | {} |",
                z.function,
                mb(z.bytes),
                f0(z.bytes as f64),
                mb(z.uncompressed_bytes),
                if z.bytes <= ZIP_TARGET_BYTES {
                    "within"
                } else {
                    "**over**"
                },
                z.modified_utc
            );
        }
        let _ = writeln!(s);
    }
}

/// Spawn to the runtime's first poll of each native binary, and how.
pub(super) fn init(s: &mut String, r: &Results) {
    let _ = writeln!(s, "## Local init time of each function binary\n");
    let _ = writeln!(
        s,
        "Method: the native x86_64 `--release` binary (target/release/<fn>, not the arm64 one in the zip) \
         runs with the environment Lambda gives it (function name, 512 MB, region, dummy credentials, \
         the function's table/queue variables) and `AWS_LAMBDA_RUNTIME_API` pointing at a local TCP \
         listener. Init = spawn -> the runtime's first `GET /2018-06-01/runtime/invocation/next` \
         (process start, loading, `main`: tracing, env config, AWS SDK config and clients). \
         Cross-check: the same binary without `AWS_LAMBDA_RUNTIME_API`, spawn -> exit. \
         On Lambda add the sandbox and network start-up, the arm64 CPU, and the CPU share: \
         512 MB gets ~0.29 vCPU (1 769 MB = 1 vCPU), so CPU-bound init takes ~3.5x longer there.\n"
    );
    if !r.init.is_empty() {
        let _ = writeln!(s, "| Function | Init, median | min | max | Runs | Exit without runtime API | Binary | Built |\n|---|---:|---:|---:|---:|---|---:|---|");
        for i in &r.init {
            let _ = writeln!(
                s,
                "| {} | **{:.2} ms** | {:.2} ms | {:.2} ms | {} | {:.2} ms ({}) | {} | {} |",
                i.function,
                i.to_first_poll_ms[0],
                i.to_first_poll_ms[1],
                i.to_first_poll_ms[2],
                i.runs,
                i.to_exit_without_api_ms,
                i.exit_without_api,
                mb(i.binary_bytes),
                i.built_utc
            );
        }
        let _ = writeln!(s);
    }
    for e in &r.init_errors {
        let _ = writeln!(s, "- not measured: {e}");
    }
    if !r.init_errors.is_empty() {
        let _ = writeln!(s);
    }
}
