//! The hosts' adapters and configuration around the core.

use super::*;

#[tokio::test]
async fn the_lambda_adapter_hands_the_request_to_the_core() {
    let c = collector();
    let mut req =
        lambda_http::Request::new(lambda_http::Body::Binary(gzip(heartbeats(2).as_bytes())));
    *req.method_mut() = http::Method::POST;
    *req.uri_mut() = PATH.parse().expect("uri");
    let h = req.headers_mut();
    h.insert(
        "authorization",
        header_value("tv", "k2", "new-key").parse().expect("header"),
    );
    h.insert("content-encoding", "gzip".parse().expect("header"));
    h.insert("content-type", "application/json".parse().expect("header"));
    let r = crate::lambda::respond(&c, req).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(stream_ids(&c), ["e0", "e1"]);
}

#[test]
fn collector_keys_are_read_as_hashes() {
    let hash = hex::encode(crate::auth::hash_key("new-key"));
    let keys = crate::entry::parse_keys(&format!(
        r#"[{{"app_id":"tv","kid":"k2","sha256":"{hash}"}}]"#
    ))
    .expect("valid");
    assert_eq!(keys[0].2, crate::auth::hash_key("new-key"));
    assert!(crate::entry::parse_keys(r#"[{"app_id":"tv","kid":"k2","sha256":"zz"}]"#).is_err());
}

#[tokio::test]
async fn cors_preflight_and_other_routes() {
    let c = collector();
    let pre = Request::options(PATH).body(Bytes::new()).expect("request");
    let r = c.handle_at(pre, NOW).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let get = Request::get(PATH).body(Bytes::new()).expect("request");
    assert_eq!(
        c.handle_at(get, NOW).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    let other = Request::post("/v2/events")
        .body(Bytes::new())
        .expect("request");
    assert_eq!(
        c.handle_at(other, NOW).await.status(),
        StatusCode::NOT_FOUND
    );
    nothing_written(&c);
}
