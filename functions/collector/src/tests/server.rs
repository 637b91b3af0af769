//! The long-lived host (`server`): the same core behind a real socket.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::server::{respond, serve, HEALTH_PATH};

#[tokio::test]
async fn healthz_answers_without_a_key() {
    let c = collector();
    let req = Request::get(HEALTH_PATH)
        .body(http_body_util::Empty::<Bytes>::new())
        .expect("request");
    let r = respond(&c, req).await;
    assert_eq!(r.status(), StatusCode::OK);
    nothing_written(&c);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_read_whole() {
    let c = collector();
    let big = vec![b' '; crate::body::MAX_DECODED_BYTES + 1];
    let req = signed(big).map(http_body_util::Full::new);
    let r = respond(&c, req).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    nothing_written(&c);
}

/// One HTTP/1.1 exchange on a fresh connection; the raw answer.
async fn exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{head}\r\nhost: localhost\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("write head");
    s.write_all(body).await.expect("write body");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read answer");
    out
}

#[tokio::test]
async fn events_posted_over_tcp_reach_the_stream_and_shutdown_drains() {
    let c = Arc::new(collector());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let stop = CancellationToken::new();
    let server = tokio::spawn(serve(listener, c.clone(), {
        let stop = stop.clone();
        async move { stop.cancelled().await }
    }));

    let auth = header_value("tv", "k2", "new-key");
    let ok = exchange(
        addr,
        &format!("POST {PATH} HTTP/1.1\r\nauthorization: {auth}\r\ncontent-type: application/json"),
        heartbeats(3).as_bytes(),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains(r#""accepted":3"#), "{ok}");

    let no_key = exchange(
        addr,
        &format!("POST {PATH} HTTP/1.1"),
        heartbeats(1).as_bytes(),
    )
    .await;
    assert!(no_key.starts_with("HTTP/1.1 401"), "{no_key}");
    let health = exchange(addr, &format!("GET {HEALTH_PATH} HTTP/1.1"), b"").await;
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok"),
        "{health}"
    );

    stop.cancel();
    server.await.expect("joined").expect("served");
    assert_eq!(stream_ids(&c), ["e0", "e1", "e2"]);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn an_app_over_its_limit_is_a_429_with_retry_after_and_others_pass() {
    let mut c = collector();
    c.keys
        .insert_hash("radio", "k1", crate::auth::hash_key("radio-key"));
    c.app_limit = Some(Arc::new(crate::throttle::AppThrottle::new(1, 2)));
    for _ in 0..2 {
        assert_eq!(
            c.handle_at(signed(heartbeats(1)), NOW).await.status(),
            StatusCode::OK
        );
    }
    let r = c.handle_at(signed(heartbeats(1)), NOW).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    let reason = json(&r)["error"].as_str().expect("reason").to_string();
    assert!(
        reason.starts_with("app tv is over its limit of 1 requests/s (burst 2)"),
        "{reason}"
    );
    assert_eq!(
        stream_ids(&c),
        ["e0", "e0"],
        "the refused request wrote nothing"
    );
    // Another app has its own budget; a bad key spends nobody's.
    let radio = header_value("radio", "k1", "radio-key");
    let r = c
        .handle_at(
            request(Some(&radio), "application/json", heartbeats(1)),
            NOW,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let forged = header_value("radio", "k1", "wrong");
    for _ in 0..3 {
        let r = c
            .handle_at(
                request(Some(&forged), "application/json", heartbeats(1)),
                NOW,
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = c
        .handle_at(
            request(Some(&radio), "application/json", heartbeats(1)),
            NOW,
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the 401s did not use radio's budget"
    );
}
