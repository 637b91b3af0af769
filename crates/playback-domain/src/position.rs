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
        format!("{:03}{}.{:06}", self.seq.len(), self.seq, self.sub)
    }

    pub fn from_sortable(s: &str) -> Option<Self> {
        let len: usize = s.get(..3)?.parse().ok()?;
        let seq = s.get(3..3 + len)?;
        let sub = s.get(4 + len..)?.parse().ok()?;
        StreamPosition::new(seq, sub)
    }
}

impl Ord for StreamPosition {
    fn cmp(&self, other: &Self) -> Ordering {
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
        assert_eq!(StreamPosition::from_sortable(&c.sortable()), Some(c));
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
