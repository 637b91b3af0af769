//! A shard's window partials as one compact blob: per title x region, the
//! two ids and five counters as LEB128 varints (~30-40 bytes a group, where
//! DynamoDB attributes would cost their names on every group).

use playback_domain::qoe::{Group, PartialWindow, WindowTotals};

const VERSION: u8 = 1;

/// Encodes `groups`, split into blobs of at most about `max_bytes` each.
pub fn encode(groups: &[(&str, &str, &PartialWindow)], max_bytes: usize) -> Vec<Vec<u8>> {
    let mut blobs = vec![vec![VERSION]];
    for (title, region, p) in groups {
        let mut g = Vec::with_capacity(title.len() + region.len() + 24);
        for text in [title, region] {
            varint(&mut g, text.len() as u64);
            g.extend_from_slice(text.as_bytes());
        }
        let t = p.totals();
        for v in [t.watched_ms, t.stalled_ms, t.events, t.sessions, t.viewers] {
            varint(&mut g, v);
        }
        let last = blobs.last_mut().expect("one blob");
        if last.len() > 1 && last.len() + g.len() > max_bytes {
            blobs.push(vec![VERSION]);
        }
        blobs.last_mut().expect("one blob").extend_from_slice(&g);
    }
    blobs
}

/// Decodes one blob; `None` if it is not one we wrote.
pub fn decode(blob: &[u8]) -> Option<Vec<Group>> {
    let (&version, mut rest) = blob.split_first()?;
    if version != VERSION {
        return None;
    }
    let mut out = Vec::new();
    while !rest.is_empty() {
        let mut text = || -> Option<String> {
            let len = read_varint(&mut rest)? as usize;
            let (s, tail) = (rest.get(..len)?, rest.get(len..)?);
            rest = tail;
            String::from_utf8(s.to_vec()).ok()
        };
        let (title, region) = (text()?, text()?);
        let mut n = [0u64; 5];
        for v in &mut n {
            *v = read_varint(&mut rest)?;
        }
        let totals = WindowTotals {
            watched_ms: n[0],
            stalled_ms: n[1],
            events: n[2],
            sessions: n[3],
            viewers: n[4],
            shards_flushed: 1,
        };
        out.push((title, region, totals));
    }
    Some(out)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(b: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = b.split_first()?;
        *b = rest;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(watched: u64, sessions: u64) -> PartialWindow {
        PartialWindow {
            watched_ms: watched,
            stalled_ms: watched / 7,
            events: sessions * 3,
            sessions: (0..sessions).collect(),
            viewers: (0..sessions / 2).collect(),
        }
    }

    #[test]
    fn round_trips_and_splits_below_the_limit() {
        let parts: Vec<_> = (0..500u64)
            .map(|i| partial(i * 1_000_003, i % 40))
            .collect();
        let names: Vec<_> = (0..500)
            .map(|i| (format!("title-{i:05}"), format!("r{}", i % 5)))
            .collect();
        let groups: Vec<_> = names
            .iter()
            .zip(&parts)
            .map(|((t, r), p)| (t.as_str(), r.as_str(), p))
            .collect();
        let blobs = encode(&groups, 4_000);
        assert!(blobs.len() > 1 && blobs.iter().all(|b| b.len() <= 4_000));
        let back: Vec<Group> = blobs.iter().flat_map(|b| decode(b).unwrap()).collect();
        assert_eq!(back.len(), 500);
        for ((t, r, p), (bt, br, totals)) in groups.iter().zip(&back) {
            assert_eq!((*t, *r, &p.totals()), (bt.as_str(), br.as_str(), totals));
        }
        let per_group = blobs.iter().map(Vec::len).sum::<usize>() as f64 / 500.0;
        assert!(per_group < 40.0, "{per_group} bytes per group");
    }

    #[test]
    fn extremes_and_garbage() {
        let p = PartialWindow {
            watched_ms: u64::MAX,
            ..Default::default()
        };
        let blob = encode(&[("t", "é", &p)], 1_000).remove(0);
        assert_eq!(decode(&blob).unwrap()[0].2.watched_ms, u64::MAX);
        assert_eq!(decode(&[VERSION]), Some(vec![]));
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[9, 0]), None, "unknown version");
        assert_eq!(decode(&blob[..blob.len() - 1]), None, "truncated");
    }
}
