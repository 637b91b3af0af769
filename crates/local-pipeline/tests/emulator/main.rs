//! Integration tests against the emulator (AWS_ENDPOINT_URL). Each is
//! `#[ignore = "emulator: run via make test"]`: `make test` runs them in its
//! emulator pass (`-- --ignored`). Every test uses its own prefixed resources.
// Test code: a failed unwrap is the test failing, with its location.
#![allow(clippy::unwrap_used)]

mod collector;
mod common;
mod firehose_s3;
mod kinesis;
mod lake;
mod qoe;
mod redrive;
mod setup;
mod sqs;
mod sre_store;
mod teardown;
