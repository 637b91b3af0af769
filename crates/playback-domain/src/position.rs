//! Where an event sits in the stream: shard sequence number plus its line in a
//! packed record. Kinesis sequence numbers are decimal strings of up to 129
//! digits, so they are compared as numbers (by length, then digits), never as
//! plain strings, and never squeezed into a float or a DynamoDB number.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamPosition {
    /// Shared by every event of a record: cloning a position is a refcount.
    seq: Arc<str>,
    pub sub: u32,
}

impl StreamPosition {
    /// `seq` must be a decimal string; leading zeros are dropped.
    pub fn new(seq: &str, sub: u32) -> Option<Self> {
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let trimmed = seq.trim_start_matches('0');
        let seq = if trimmed.is_empty() { "0" } else { trimmed };
        Some(StreamPosition {
            seq: Arc::from(seq),
            sub,
        })
    }

    pub fn sequence_number(&self) -> &str {
        &self.seq
    }

    /// The same record, another line of it.
    pub fn with_sub(&self, sub: u32) -> Self {
        StreamPosition {
            seq: Arc::clone(&self.seq),
            sub,
        }
    }

    /// A string whose byte order equals the numeric order: 3-digit length,
    /// digits, then the 6-digit line index. Safe for DynamoDB string conditions.
    pub fn sortable(&self) -> String {
        let mut s = String::with_capacity(self.seq.len() + 10);
        self.write_sortable(&mut s);
        s
    }

    /// Appends [`Self::sortable`] to `out` without the formatting machinery:
    /// the features fold writes one per event.
    pub fn write_sortable(&self, out: &mut String) {
        push_padded(out, self.seq.len() as u64, 3);
        out.push_str(&self.seq);
        out.push('.');
        push_padded(out, u64::from(self.sub), 6);
    }

    /// Orders this position against a stored [`Self::sortable`] string exactly
    /// as the two strings order, without building this one's.
    pub fn cmp_sortable(&self, stored: &str) -> Ordering {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let parsed = (|| {
            let (len_text, rest) = (stored.get(..3)?, stored.get(3..)?);
            let len: usize = len_text.parse().ok()?;
            let (seq, tail) = (rest.get(..len)?, rest.get(len..)?);
            let sub_text = tail.strip_prefix('.')?;
            let ok = digits(len_text) && sub_text.len() == 6 && digits(sub_text);
            ok.then(|| (len, seq, sub_text.parse::<u32>().unwrap_or(0)))
        })();
        let fits = self.seq.len() < 1000 && self.sub < 1_000_000;
        match parsed {
            Some(theirs) if fits => (self.seq.len(), self.seq.as_ref(), self.sub).cmp(&theirs),
            _ => self.sortable().as_str().cmp(stored),
        }
    }

    pub fn from_sortable(s: &str) -> Option<Self> {
        let len: usize = s.get(..3)?.parse().ok()?;
        let seq = s.get(3..3 + len)?;
        let sub = s.get(4 + len..)?.parse().ok()?;
        StreamPosition::new(seq, sub)
    }
}

/// `n` in decimal, left-padded with zeros to at least `width` digits.
fn push_padded(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(buf.len().saturating_sub(width));
    out.push_str(std::str::from_utf8(&buf[start..]).expect("ASCII digits"));
}

/// Orders two Kinesis sequence numbers (decimal strings of up to 129 digits,
/// more than any integer type holds) as numbers: leading zeros dropped, then
/// shorter is smaller, then digit by digit. The one comparison of the
/// workspace: checkpoints, item failures, redrive ends and the royalty winner.
pub fn cmp_seq(a: &str, b: &str) -> Ordering {
    let (a, b) = (significant(a), significant(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The digits of a sequence number without surrounding space and leading zeros.
fn significant(s: &str) -> &str {
    s.trim().trim_start_matches('0')
}

impl Ord for StreamPosition {
    fn cmp(&self, other: &Self) -> Ordering {
        // Both are normalised by `new`, so this is `cmp_seq` without the trim.
        self.seq
            .len()
            .cmp(&other.seq.len())
            .then_with(|| self.seq.cmp(&other.seq))
            .then_with(|| self.sub.cmp(&other.sub))
    }
}

impl PartialOrd for StreamPosition {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for StreamPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.seq, self.sub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sortable_is_the_padded_format_and_cmp_sortable_orders_as_strings() {
        let seqs = [
            "0",
            "7",
            "10",
            "999",
            "49590338271490256608559692538361571095921575989136588898",
        ];
        let subs = [0, 1, 9, 10, 999_999, 1_000_000, u32::MAX];
        let all: Vec<StreamPosition> = seqs
            .iter()
            .flat_map(|s| {
                subs.iter()
                    .map(move |&sub| StreamPosition::new(s, sub).unwrap())
            })
            .collect();
        for a in &all {
            let expected = format!("{:03}{}.{:06}", a.seq.len(), a.seq, a.sub);
            assert_eq!(a.sortable(), expected);
            for b in &all {
                assert_eq!(
                    a.cmp_sortable(&b.sortable()),
                    a.sortable().cmp(&b.sortable()),
                    "{a} vs {b}"
                );
            }
            for odd in [
                "",
                "00",
                "002+1.000000",
                "0021.+00001",
                "001x.000000",
                "0017.00000",
                "zzz",
            ] {
                assert_eq!(
                    a.cmp_sortable(odd),
                    a.sortable().as_str().cmp(odd),
                    "{a} vs {odd:?}"
                );
            }
        }
    }

    #[test]
    fn orders_numerically_not_lexically() {
        let a = StreamPosition::new("9", 0).unwrap();
        let b = StreamPosition::new("10", 0).unwrap();
        assert!(a < b);
        assert!(a.sortable() < b.sortable());
        let big = "49590338271490256608559692538361571095921575989136588898";
        let c = StreamPosition::new(big, 3).unwrap();
        let d = StreamPosition::new(big, 4).unwrap();
        assert!(b < c && c < d);
        assert!(c.sortable() < d.sortable());
        assert_eq!(
            StreamPosition::from_sortable(&c.sortable()),
            Some(c.clone())
        );
    }

    #[test]
    fn cmp_seq_orders_56_and_129_digit_numbers_as_numbers() {
        let aws = "49590338271490256608559692538361571095921575989136588898";
        let next = "49590338271490256608559692538361571095921575989136588899";
        let longest = format!("1{}", "0".repeat(128));
        let longest_minus_one = "9".repeat(128);
        assert_eq!(aws.len(), 56);
        assert_eq!(longest.len(), 129);
        assert_eq!(cmp_seq(aws, next), Ordering::Less);
        assert_eq!(cmp_seq(next, aws), Ordering::Greater);
        assert_eq!(cmp_seq(aws, aws), Ordering::Equal);
        assert_eq!(cmp_seq(&longest_minus_one, &longest), Ordering::Less);
        assert_eq!(cmp_seq(aws, &longest), Ordering::Less);
        // Plain string order would get these wrong.
        assert_eq!(cmp_seq("9", "10"), Ordering::Less);
        assert_eq!(cmp_seq(&"9".repeat(55), aws), Ordering::Less);
        // Leading zeros do not change the number.
        assert_eq!(cmp_seq("007", "7"), Ordering::Equal);
        assert_eq!(cmp_seq("0", "000"), Ordering::Equal);
    }

    #[test]
    fn rejects_non_decimal() {
        assert!(StreamPosition::new("12a", 0).is_none());
        assert!(StreamPosition::new("", 0).is_none());
        assert_eq!(
            StreamPosition::new("007", 1).unwrap().sequence_number(),
            "7"
        );
    }
}
