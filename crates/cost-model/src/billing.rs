//! How AWS counts: the month, byte units, and rounding up to whole billed units.

pub const HOURS_PER_MONTH: f64 = 730.0;
pub const DAYS_PER_MONTH: f64 = HOURS_PER_MONTH / 24.0;
pub const KB: f64 = 1024.0;
pub const MIB: f64 = 1024.0 * 1024.0;
/// AWS bills GB as 2^30 bytes and TB as 2^40.
pub const GB: f64 = 1024.0 * 1024.0 * 1024.0;
pub const TB: f64 = GB * 1024.0;

/// Rounds `bytes` up to whole units of `unit` bytes (at least one unit).
pub fn round_up(bytes: f64, unit: f64) -> f64 {
    (bytes / unit).ceil().max(1.0) * unit
}

/// Billed units of `bytes` in units of `unit` (at least one).
pub fn units(bytes: f64, unit: f64) -> f64 {
    (bytes / unit).ceil().max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_kb_rounding() {
        assert_eq!(round_up(400.0, 5.0 * KB), 5120.0);
        assert_eq!(round_up(5120.0, 5.0 * KB), 5120.0);
        assert_eq!(round_up(5121.0, 5.0 * KB), 10240.0);
        assert_eq!(round_up(3.0 * KB, 5.0 * KB), 5.0 * KB);
        assert_eq!(round_up(12.0 * KB, 5.0 * KB), 15.0 * KB); // the pricing page's example
        assert_eq!(round_up(0.0, KB), KB);
    }

    #[test]
    fn put_payload_units_are_25_kb() {
        assert_eq!(units(5.0 * KB, 25.0 * KB), 1.0);
        assert_eq!(units(45.0 * KB, 25.0 * KB), 2.0);
        assert_eq!(units(1024.0 * KB, 25.0 * KB), 41.0); // 1 MiB = 40.96 units -> 41
        assert_eq!(units(4.5 * KB, KB), 5.0); // on-demand: 4.5 KB billed as 5 KB
    }
}
