//! The long-lived host of the same core (`collector-server` on Fargate, and
//! the local pipeline): HTTP/1.1 on hyper, each request handed to
//! [`Collector::handle`] as the Lambda adapter does, plus `GET /healthz` for
//! the load balancer. Graceful: on shutdown it stops accepting and lets the
//! requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use playback_domain::ports::DeadLetters;
use tokio::net::TcpListener;

use crate::body::{MAX_DECODED_BYTES, MAX_GZIP_BYTES};
use crate::ports::{KeyStore, SreQueue, StreamSink};
use crate::Collector;

pub const HEALTH_PATH: &str = "/healthz";

/// One request: read the body (bounded), then the core.
pub async fn respond<K, S, Q, D, B>(c: &Collector<K, S, Q, D>, req: Request<B>) -> Response<String>
where
    K: KeyStore,
    S: StreamSink,
    Q: SreQueue,
    D: DeadLetters,
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if req.method() == Method::GET && req.uri().path() == HEALTH_PATH {
        return Response::new("ok".into());
    }
    let limit = MAX_DECODED_BYTES.max(MAX_GZIP_BYTES);
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return crate::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("body over {limit} bytes"),
            )
        }
        Err(e) => return crate::error(StatusCode::BAD_REQUEST, &format!("reading the body: {e}")),
    };
    c.handle(Request::from_parts(parts, bytes)).await
}

/// Serves `collector` on `listener` until `shutdown` resolves.
pub async fn serve<K, S, Q, D>(
    listener: TcpListener,
    collector: Arc<Collector<K, S, Q, D>>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()>
where
    K: KeyStore + 'static,
    S: StreamSink + 'static,
    Q: SreQueue + 'static,
    D: DeadLetters + 'static,
{
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // A connection that died before accept: keep serving.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let c = collector.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let c = c.clone();
            async move { Ok::<_, Infallible>(respond(&c, req).await.map(|s| Full::new(Bytes::from(s)))) }
        });
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
}
