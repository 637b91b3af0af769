//! App keys: `Authorization: Playback app=<app_id>, kid=<kid>, key=<key>`.
//! The store holds only SHA-256 hashes; the presented key is hashed and the
//! two hashes compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ports::KeyHash;

/// The auth scheme's name in the Authorization header.
pub const SCHEME: &str = "Playback";

/// What a request presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential<'a> {
    pub app_id: &'a str,
    pub kid: &'a str,
    pub key: &'a str,
}

pub fn hash_key(key: &str) -> KeyHash {
    Sha256::digest(key.as_bytes()).into()
}

/// Reads `Playback app=.., kid=.., key=..` (any order, comma-separated).
pub fn parse_header(value: &str) -> Result<Credential<'_>, &'static str> {
    const MALFORMED: &str = "Authorization must be `Playback app=<app_id>, kid=<kid>, key=<key>`";
    let rest = value
        .strip_prefix(SCHEME)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or(MALFORMED)?;
    let (mut app_id, mut kid, mut key) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(MALFORMED)?;
        let slot = match k.trim() {
            "app" => &mut app_id,
            "kid" => &mut kid,
            "key" => &mut key,
            _ => return Err(MALFORMED),
        };
        *slot = Some(v.trim()).filter(|v| !v.is_empty());
    }
    match (app_id, kid, key) {
        (Some(app_id), Some(kid), Some(key)) => Ok(Credential { app_id, kid, key }),
        _ => Err(MALFORMED),
    }
}

/// The presented key against the stored hash, in constant time.
pub fn key_matches(key: &str, stored: &KeyHash) -> bool {
    hash_key(key).ct_eq(stored).into()
}

/// The header value a player sends.
pub fn header_value(app_id: &str, kid: &str, key: &str) -> String {
    format!("{SCHEME} app={app_id}, kid={kid}, key={key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_read_in_any_order_and_refused_when_incomplete() {
        let c = parse_header("Playback kid=k2, key=s3cret, app=tv").expect("valid");
        assert_eq!((c.app_id, c.kid, c.key), ("tv", "k2", "s3cret"));
        assert!(parse_header("Bearer abc").is_err());
        assert!(parse_header("Playback app=tv, kid=k2").is_err());
        assert!(parse_header("Playback app=tv, kid=, key=x").is_err());
        assert!(parse_header("Playback app=tv, kid=k, key=x, role=admin").is_err());
    }

    #[test]
    fn only_the_right_key_matches_its_hash() {
        let stored = hash_key("s3cret");
        assert!(key_matches("s3cret", &stored));
        assert!(!key_matches("s3cres", &stored));
    }
}
