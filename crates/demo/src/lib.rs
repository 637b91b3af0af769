//! The demo's building blocks, shared with the end-to-end tests (tests/):
//! reading back what each path produced, the chart, the printed report.

pub mod canonical;
pub mod chaos;
pub mod chart;
pub mod collector_load;
pub mod features;
pub mod report;
pub mod sre;
