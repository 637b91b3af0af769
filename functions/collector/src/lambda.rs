//! The Lambda adapter (function URL or HTTP API, payload v2): lambda_http's
//! request into the core's, the core's response back. Nothing else.

use bytes::Bytes;
use lambda_http::{Body, Request, Response};
use playback_domain::ports::DeadLetters;

use crate::ports::{KeyStore, SreQueue, StreamSink};
use crate::Collector;

/// lambda_http has already undone the payload's base64 (gzip bodies).
pub fn into_core(req: Request) -> http::Request<Bytes> {
    let (parts, body) = req.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    http::Request::from_parts(parts, bytes)
}

pub async fn respond<K, S, Q, D>(c: &Collector<K, S, Q, D>, req: Request) -> Response<Body>
where
    K: KeyStore,
    S: StreamSink,
    Q: SreQueue,
    D: DeadLetters,
{
    c.handle(into_core(req)).await.map(Body::Text)
}
