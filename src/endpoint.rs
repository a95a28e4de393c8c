//! Where browsers reach the bucket: the origin, the `Host` that signatures cover, and the path
//! prefix (empty for virtual-hosted style, `/{bucket}` for path style).

/// The public address of the uploads bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketEndpoint {
    origin: String,
    host: String,
    path: String,
}

impl BucketEndpoint {
    /// AWS's own virtual-hosted address, `https://{bucket}.s3.{region}.amazonaws.com`.
    pub fn aws(bucket: &str, region: &str) -> Self {
        let suffix = if region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        let host = format!("{bucket}.s3.{region}.{suffix}");
        BucketEndpoint {
            origin: format!("https://{host}"),
            host,
            path: String::new(),
        }
    }

    /// An explicit endpoint such as `http://127.0.0.1:3900`: path style puts the bucket in the
    /// path, virtual-hosted style in front of the host.
    pub fn custom(url: &str, bucket: &str, path_style: bool) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
            .ok_or_else(|| format!("`{url}` is not an http:// or https:// URL"))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let valid_char =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
        if authority.is_empty() || !authority.chars().all(valid_char) {
            return Err(format!(
                "`{url}` must be scheme://host[:port] with no path, query or user"
            ));
        }
        Ok(if path_style {
            BucketEndpoint {
                origin: format!("{scheme}://{authority}"),
                host: authority.to_owned(),
                path: format!("/{bucket}"),
            }
        } else {
            let host = format!("{bucket}.{authority}");
            BucketEndpoint {
                origin: format!("{scheme}://{host}"),
                host,
                path: String::new(),
            }
        })
    }

    /// `scheme://host[:port]`
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The `Host` header browsers send, which presigned URLs sign.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `""` or `/{bucket}`
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Where the browser POSTs the upload form.
    pub fn post_url(&self) -> String {
        format!("{}{}/", self.origin, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_is_virtual_hosted() {
        let e = BucketEndpoint::aws("qdn-uploads", "eu-west-1");
        assert_eq!(
            e.post_url(),
            "https://qdn-uploads.s3.eu-west-1.amazonaws.com/"
        );
        assert_eq!(e.host(), "qdn-uploads.s3.eu-west-1.amazonaws.com");
        assert_eq!(e.path(), "");
        assert_eq!(
            BucketEndpoint::aws("b", "cn-north-1").host(),
            "b.s3.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn custom_path_style_keeps_port_and_puts_bucket_in_path() {
        let e = BucketEndpoint::custom("http://127.0.0.1:3900/", "qdn-uploads", true).unwrap();
        assert_eq!(e.origin(), "http://127.0.0.1:3900");
        assert_eq!(e.host(), "127.0.0.1:3900");
        assert_eq!(e.post_url(), "http://127.0.0.1:3900/qdn-uploads/");
        let v = BucketEndpoint::custom("https://s3.example.test", "b", false).unwrap();
        assert_eq!(v.post_url(), "https://b.s3.example.test/");
    }

    #[test]
    fn rejects_urls_that_are_not_plain_origins() {
        for bad in [
            "127.0.0.1:3900",
            "ftp://x",
            "http://",
            "http://h/path",
            "http://u@h",
            "http://h?q=1",
        ] {
            assert!(BucketEndpoint::custom(bad, "b", true).is_err(), "{bad}");
        }
    }
}
