//! Test and inspection support: reads back what each path of the pipeline
//! produced, for the demo's report, the chaos driver's verdict and the
//! end-to-end tests (which must not depend on the demo). `anyhow` here, as
//! in tests: its callers only print or assert the errors.

pub mod inspect;
