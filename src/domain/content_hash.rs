//! A photo's SHA-256: what a grant binds (S3 stores no other body), what the pipeline recomputes
//! from the stored bytes, and what the record, `/photos` and an export carry. Lower-case hex
//! outside (what `sha256sum` prints); base64 on the wire to S3 (what `x-amz-checksum-sha256`
//! takes). Either is accepted from a client.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    pub fn of(bytes: &[u8]) -> Self {
        ContentHash(Sha256::digest(bytes).into())
    }

    /// 64 hex digits (either case), or the 44-character base64 S3 uses; nothing else.
    pub fn parse(text: &str) -> Option<Self> {
        let mut digest = [0u8; 32];
        match text.len() {
            64 => hex::decode_to_slice(text, &mut digest).ok()?,
            44 => {
                let bytes = STANDARD.decode(text).ok()?;
                digest = bytes.try_into().ok()?;
            }
            _ => return None,
        }
        Some(ContentHash(digest))
    }

    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_name_the_same_digest_and_nothing_else_parses() {
        // SHA-256 of the empty string, as `sha256sum` and as S3 print it.
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let base64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let empty = ContentHash::of(b"");
        assert_eq!(ContentHash::parse(hex), Some(empty));
        assert_eq!(ContentHash::parse(&hex.to_ascii_uppercase()), Some(empty));
        assert_eq!(ContentHash::parse(base64), Some(empty));
        assert_eq!((empty.hex(), empty.base64()), (hex.into(), base64.into()));
        for bad in [
            "",
            &hex[..63],
            &format!("{hex}0"),
            &hex.replace('e', "g"),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU!",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        ] {
            assert_eq!(ContentHash::parse(bad), None, "{bad}");
        }
    }
}
