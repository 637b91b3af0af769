//! The refusals and the CORS headers every answer carries.

use std::time::Duration;

use http::{header, Response, StatusCode};

use crate::RETRY_AFTER_SECS;

pub(crate) fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
}

pub(crate) fn with_cors(builder: http::response::Builder, body: String) -> Response<String> {
    builder
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "POST, OPTIONS")
        .header(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            "authorization, content-type, content-encoding",
        )
        .header(header::ACCESS_CONTROL_MAX_AGE, "86400")
        .body(body)
        .expect("static headers are valid")
}

/// A refused request: the status and `{"error": "<one line>"}`.
pub(crate) fn error(code: StatusCode, reason: &str) -> Response<String> {
    let body = serde_json::json!({ "error": reason }).to_string();
    let builder = Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json");
    with_cors(builder, body)
}

/// A 429: the app is over its limit; `Retry-After` when the next is admitted.
pub(crate) fn throttled(app_id: &str, limit: &str, wait: Duration) -> Response<String> {
    let reason = format!("app {app_id} is over its limit of {limit}; retry after Retry-After");
    let mut r = error(StatusCode::TOO_MANY_REQUESTS, &reason);
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    r.headers_mut()
        .insert(header::RETRY_AFTER, http::HeaderValue::from(secs));
    r
}

pub(crate) fn unavailable(reason: &str) -> Response<String> {
    let mut r = error(StatusCode::SERVICE_UNAVAILABLE, reason);
    r.headers_mut().insert(
        header::RETRY_AFTER,
        http::HeaderValue::from(RETRY_AFTER_SECS),
    );
    r
}
