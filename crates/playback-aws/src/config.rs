//! Configuration from environment variables, parsed once at start-up: a
//! missing or malformed value stops the function before its first event.

use std::str::FromStr;

use crate::AwsError;

pub fn required(name: &'static str) -> Result<String, AwsError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(AwsError::MissingEnv(name)),
    }
}

pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn parsed<T: FromStr>(name: &'static str, default: T) -> Result<T, AwsError>
where
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| AwsError::BadEnv {
            name,
            value: v,
            why: e.to_string(),
        }),
    }
}
