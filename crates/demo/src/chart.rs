//! A self-contained HTML page with an SVG line chart of the rebuffering ratio
//! per window: the incident's title x region against everything else.

use std::collections::BTreeMap;
use std::fmt::Write;

use playback_domain::metrics::rebuffering_ratio;

use testkit::inspect::{AlertRow, WindowRow};

const W: f64 = 900.0;
const H: f64 = 360.0;
const PAD: f64 = 50.0;

/// (window start, ratio) of the focus title x region, and of all others pooled.
pub fn series(windows: &[WindowRow], title: &str, region: &str) -> [(String, Vec<(i64, f64)>); 2] {
    let mut focus = BTreeMap::new();
    let mut rest: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for w in windows {
        if w.title_id == title && w.region == region {
            focus.insert(w.window_start_ms, (w.watched_ms, w.stalled_ms));
        } else {
            let e = rest.entry(w.window_start_ms).or_default();
            e.0 += w.watched_ms;
            e.1 += w.stalled_ms;
        }
    }
    let to_points = |m: BTreeMap<i64, (u64, u64)>| {
        m.into_iter()
            .filter_map(|(t, (wa, st))| rebuffering_ratio(wa, st).map(|r| (t, r)))
            .collect()
    };
    [
        (format!("{title} / {region} (incident)"), to_points(focus)),
        ("all other titles x regions".to_string(), to_points(rest)),
    ]
}

pub fn html(series: &[(String, Vec<(i64, f64)>)], alerts: &[AlertRow], threshold: f64) -> String {
    let all: Vec<(i64, f64)> = series.iter().flat_map(|(_, p)| p.iter().copied()).collect();
    let (t0, t1) = match (all.iter().map(|p| p.0).min(), all.iter().map(|p| p.0).max()) {
        (Some(a), Some(b)) if b > a => (a, b),
        (Some(a), _) => (a, a + 1),
        _ => (0, 1),
    };
    let ymax = all
        .iter()
        .map(|p| p.1)
        .fold(threshold * 1.5, f64::max)
        .max(0.01);
    let x = |t: i64| PAD + (t - t0) as f64 / (t1 - t0) as f64 * (W - 2.0 * PAD);
    let y = |r: f64| H - PAD - r / ymax * (H - 2.0 * PAD);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    for a in alerts {
        let (xa, xb) = (x(a.window_start_ms), x(a.window_end_ms).min(W - PAD));
        let _ = write!(
            svg,
            r##"<rect x="{xa:.1}" y="{PAD}" width="{:.1}" height="{:.1}" fill="#fde2e2"/>"##,
            (xb - xa).max(2.0),
            H - 2.0 * PAD
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{PAD}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#c00" stroke-dasharray="6 4"/>"##,
        y(threshold),
        W - PAD
    );
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" fill="#c00">alert threshold {threshold:.3}</text>"##,
        W - PAD - 140.0,
        y(threshold) - 6.0
    );
    let _ = write!(
        svg,
        r#"<line x1="{PAD}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/><line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{0}" stroke="black"/>"#,
        H - PAD,
        W - PAD
    );
    for i in 0..=4 {
        let r = ymax * i as f64 / 4.0;
        let _ = write!(
            svg,
            r#"<text x="4" y="{:.1}">{:.1}%</text>"#,
            y(r) + 4.0,
            r * 100.0
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{PAD}" y="{}">window start (UTC) {} .. {}</text>"#,
        H - 15.0,
        hhmmss(t0),
        hhmmss(t1)
    );
    for (i, (name, points)) in series.iter().enumerate() {
        let colour = ["#d62728", "#1f77b4"][i % 2];
        let path: Vec<String> = points
            .iter()
            .map(|(t, r)| format!("{:.1},{:.1}", x(*t), y(*r)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" fill="{colour}">{name}</text>"#,
            PAD + 10.0,
            PAD - 20.0 + 14.0 * i as f64
        );
    }
    svg.push_str("</svg>");
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Rebuffering ratio</title></head>\
         <body><h2>Rebuffering ratio per tumbling window</h2>{svg}\
         <p>Shaded: windows with an alert. Ratio = stalled / (watched + stalled).</p></body></html>\n"
    )
}

fn hhmmss(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(title: &str, start: i64, watched: u64, stalled: u64) -> WindowRow {
        WindowRow {
            title_id: title.into(),
            region: "eu".into(),
            window_start_ms: start,
            watched_ms: watched,
            stalled_ms: stalled,
            sessions: 1,
            viewers: 1,
        }
    }

    #[test]
    fn focus_and_rest_are_separate_series() {
        let rows = [
            w("t1", 0, 90, 10),
            w("t2", 0, 99, 1),
            w("t3", 0, 99, 1),
            w("t1", 10, 50, 50),
        ];
        let [focus, rest] = series(&rows, "t1", "eu");
        assert_eq!(focus.1, vec![(0, 0.1), (10, 0.5)]);
        assert_eq!(rest.1, vec![(0, 2.0 / 200.0)]);
        let page = html(&[focus, rest], &[], 0.05);
        assert!(page.contains("<polyline") && page.contains("t1 / eu (incident)"));
    }
}
