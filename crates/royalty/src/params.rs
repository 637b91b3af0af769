//! A close's fixed scope. Everything here is a pure function of the closed
//! day and the configuration, never of the wall clock, so a re-run (even
//! weeks later) scans exactly what the first run scanned.

use chrono::{Duration, NaiveDate, NaiveDateTime, Timelike};

use crate::RoyaltyError;

/// Upper bounds that keep a typo from scanning months of lake.
pub const MAX_GRACE_HOURS: u32 = 72;
pub const MAX_LOOKBACK_DAYS: u32 = 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseParams {
    /// The UTC day being closed; also the close_id.
    pub close_date: NaiveDate,
    /// Rows that arrived before `close_date + 1 day + grace_hours` are in scope.
    pub grace_hours: u32,
    /// Arrivals in scope start this many days before `close_date` (00:00 UTC).
    pub lookback_days: u32,
    /// Ledger partitions consulted: this many days back (None: the whole ledger).
    pub ledger_days: Option<u32>,
}

/// Parses a strict `YYYY-MM-DD` day.
pub fn parse_day(s: &str) -> Result<NaiveDate, RoyaltyError> {
    let well_formed = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    well_formed
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| RoyaltyError::Param(format!("{s:?} is not a day (YYYY-MM-DD)")))
}

impl CloseParams {
    pub fn new(close_date: NaiveDate, grace_hours: u32, lookback_days: u32) -> Self {
        CloseParams {
            close_date,
            grace_hours,
            lookback_days,
            ledger_days: None,
        }
    }

    pub fn validate(&self) -> Result<(), RoyaltyError> {
        if self.grace_hours > MAX_GRACE_HOURS {
            return Err(RoyaltyError::Param(format!(
                "grace_hours {} > {MAX_GRACE_HOURS}",
                self.grace_hours
            )));
        }
        if self.lookback_days > MAX_LOOKBACK_DAYS {
            return Err(RoyaltyError::Param(format!(
                "lookback_days {} > {MAX_LOOKBACK_DAYS}",
                self.lookback_days
            )));
        }
        Ok(())
    }

    /// Rows with `ingest_time` before this instant (UTC) are in scope.
    pub fn cutoff(&self) -> NaiveDateTime {
        (self.close_date + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            + Duration::hours(self.grace_hours as i64)
    }

    /// The (dt, hour) partition of the last instant before the cutoff.
    pub fn last_partition(&self) -> (NaiveDate, u32) {
        let last = self.cutoff() - Duration::milliseconds(1);
        (last.date(), last.hour())
    }

    pub fn dt_from(&self) -> NaiveDate {
        self.close_date - Duration::days(self.lookback_days as i64)
    }

    /// Earliest close_id of the ledger consulted ('0001-01-01': all of it).
    pub fn ledger_from(&self) -> String {
        match self.ledger_days {
            Some(d) => day(self.close_date - Duration::days(d as i64)),
            None => "0001-01-01".into(),
        }
    }

    /// Values of the placeholders of royalty_close.sql, but the snapshot (the
    /// close adds it: it is read from the table, not derived from the day).
    pub fn close_sql_params(&self) -> Vec<(&'static str, String)> {
        let ts = |t: NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
        let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).expect("midnight");
        vec![
            ("close_date", day(self.close_date)),
            ("cutoff", ts(self.cutoff())),
            ("scope_from", ts(midnight(self.dt_from()))),
            (
                "event_before",
                ts(midnight(self.close_date + Duration::days(1))),
            ),
            ("ledger_from", self.ledger_from()),
        ]
    }

    /// Values of the placeholders of royalty_report.sql.
    pub fn report_sql_params(&self) -> Vec<(&'static str, String)> {
        vec![("close_date", day(self.close_date))]
    }
}

pub fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_day(s).unwrap()
    }

    #[test]
    fn cutoff_and_partition_range() {
        let p = CloseParams::new(d("2026-02-28"), 1, 1);
        assert_eq!(p.cutoff().to_string(), "2026-03-01 01:00:00");
        assert_eq!(p.last_partition(), (d("2026-03-01"), 0));
        assert_eq!(p.dt_from(), d("2026-02-27"));
        // No grace: the last partition is the closed day's 23:00 hour.
        let p = CloseParams::new(d("2026-12-31"), 0, 0);
        assert_eq!(p.last_partition(), (d("2026-12-31"), 23));
        assert_eq!(p.dt_from(), d("2026-12-31"));
    }

    #[test]
    fn ledger_range() {
        let mut p = CloseParams::new(d("2026-03-10"), 1, 1);
        assert_eq!(p.ledger_from(), "0001-01-01");
        p.ledger_days = Some(35);
        assert_eq!(p.ledger_from(), "2026-02-03");
    }

    #[test]
    fn days_are_strict() {
        assert_eq!(
            d("2026-01-05"),
            NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
        );
        for bad in [
            "2026-1-05",
            "2026-02-30",
            "20260105",
            "",
            "2026-01-05x",
            "yesterday",
        ] {
            assert!(parse_day(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits() {
        assert!(CloseParams::new(d("2026-01-01"), 73, 1).validate().is_err());
        assert!(CloseParams::new(d("2026-01-01"), 1, 32).validate().is_err());
        assert!(CloseParams::new(d("2026-01-01"), 72, 31).validate().is_ok());
    }
}
