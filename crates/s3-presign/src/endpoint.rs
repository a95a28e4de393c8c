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
    ///
    /// Normalised the way browsers write the `Host` header they send (and that presigned URLs must
    /// sign): scheme and host in lower case, the scheme's default port dropped, the port as a number.
    pub fn custom(url: &str, bucket: &str, path_style: bool) -> Result<Self, String> {
        let not_origin =
            || format!("`{url}` must be scheme://host[:port] with no path, query or user");
        let (scheme, rest) = url
            .split_once("://")
            .map(|(scheme, rest)| (scheme.to_ascii_lowercase(), rest))
            .filter(|(scheme, _)| matches!(scheme.as_str(), "http" | "https"))
            .ok_or_else(|| format!("`{url}` is not an http:// or https:// URL"))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let valid_char =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
        if authority.is_empty() || !authority.chars().all(valid_char) {
            return Err(not_origin());
        }
        let authority = authority.to_ascii_lowercase();
        // `[::1]:3900` and `host:3900` have a port; `[::1]` has colons but no port.
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => {
                let port: u16 = port.parse().map_err(|_| not_origin())?;
                (host, Some(port))
            }
            _ => (authority.as_str(), None),
        };
        if host.is_empty() {
            return Err(not_origin());
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        let authority = match port {
            Some(port) if port != default_port => format!("{host}:{port}"),
            _ => host.to_owned(),
        };
        Ok(if path_style {
            BucketEndpoint {
                origin: format!("{scheme}://{authority}"),
                host: authority,
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
    fn aws_endpoints_are_virtual_hosted() {
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
    fn path_style_keeps_the_port_and_puts_the_bucket_in_the_path() {
        let e = BucketEndpoint::custom("http://127.0.0.1:3900/", "qdn-uploads", true).unwrap();
        assert_eq!(e.origin(), "http://127.0.0.1:3900");
        assert_eq!(e.host(), "127.0.0.1:3900");
        assert_eq!(e.post_url(), "http://127.0.0.1:3900/qdn-uploads/");
        let v = BucketEndpoint::custom("https://s3.example.test", "b", false).unwrap();
        assert_eq!(v.post_url(), "https://b.s3.example.test/");
    }

    #[test]
    fn default_ports_and_upper_case_are_written_as_browsers_send_them() {
        // Browsers send `Host: s3.example.com` for all of these; a signature over anything else
        // would be refused with SignatureDoesNotMatch.
        for (url, origin, host) in [
            (
                "https://s3.example.com:443",
                "https://s3.example.com",
                "s3.example.com",
            ),
            ("http://127.0.0.1:80/", "http://127.0.0.1", "127.0.0.1"),
            (
                "https://S3.Example.COM",
                "https://s3.example.com",
                "s3.example.com",
            ),
            (
                "HTTPS://S3.EXAMPLE.COM:443/",
                "https://s3.example.com",
                "s3.example.com",
            ),
            (
                "http://LocalHost:03900",
                "http://localhost:3900",
                "localhost:3900",
            ),
            ("http://[::1]:80", "http://[::1]", "[::1]"),
            ("http://[::1]:3900", "http://[::1]:3900", "[::1]:3900"),
            ("https://host:80", "https://host:80", "host:80"),
        ] {
            let e = BucketEndpoint::custom(url, "qdn-uploads", true).unwrap();
            assert_eq!((e.origin(), e.host()), (origin, host), "{url}");
        }
        let v = BucketEndpoint::custom("https://S3.Example.com:443", "qdn-uploads", false).unwrap();
        assert_eq!(v.host(), "qdn-uploads.s3.example.com");
        assert_eq!(v.post_url(), "https://qdn-uploads.s3.example.com/");
    }

    #[test]
    fn urls_that_are_not_plain_origins_are_refused() {
        for bad in [
            "127.0.0.1:3900",
            "ftp://x",
            "http://",
            "http://h/path",
            "http://u@h",
            "http://h?q=1",
            "http://h:",
            "http://h:99999",
            "http://:3900",
            "http://h:39x0",
        ] {
            assert!(BucketEndpoint::custom(bad, "b", true).is_err(), "{bad}");
        }
    }
}
