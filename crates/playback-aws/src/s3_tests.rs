//! `s3_client` against a tiny HTTP listener that records what it is sent.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn config(endpoint: Option<String>) -> SdkConfig {
    let creds = Credentials::new("test", "test", None, None, "test");
    let mut b = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(creds));
    if let Some(url) = endpoint {
        b = b.endpoint_url(url);
    }
    b.build()
}

/// Answers one request with 200 and returns its request line and Host header.
async fn one_request(listener: TcpListener) -> (String, String) {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed before the request head");
        head.extend_from_slice(&buf[..n]);
    }
    socket
        .write_all(
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-amz-bucket-region: us-east-1\r\n\r\n",
        )
        .await
        .unwrap();
    let head = String::from_utf8_lossy(&head).to_string();
    let line = head.lines().next().unwrap_or_default().to_string();
    let host = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("host"))
        })
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    (line, host)
}

#[tokio::test]
async fn a_localhost_endpoint_gets_path_style_requests() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(one_request(listener));
    let s3 = crate::s3_client(&config(Some(format!("http://localhost:{port}"))));
    s3.head_bucket().bucket("lake").send().await.unwrap();
    let (line, host) = server.await.unwrap();
    assert_eq!(host, format!("localhost:{port}"), "no bucket in the host");
    let path = line.split(' ').nth(1).unwrap_or_default();
    assert!(path.starts_with("/lake"), "{line}");
}
