//! `index.html`: the archive's contact sheet, for people.

use crate::evidence::manifest::Manifest;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A contact sheet for people: each photo's thumbnail (linking the original), key, times,
/// uploader and hash. Everything in it is escaped; it runs no script.
pub fn contact_sheet(manifest: &Manifest) -> String {
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'\">\
         <title>Photos of job {job}</title>\
         <style>body{{font:14px system-ui,sans-serif;margin:2rem}}figure{{display:inline-block;width:260px;margin:0 1rem 1.5rem 0;vertical-align:top}}\
         img{{max-width:240px;max-height:240px}}code{{word-break:break-all;font-size:11px}}</style></head><body>\
         <h1>Photos of job {job}</h1><p>{n} photo(s), exported {at} from bucket {bucket}. \
         The originals and their SHA-256 are in <code>manifest.json</code>; capture time, place and camera are the device's claims.</p>\n",
        job = escape(&manifest.job_id),
        n = manifest.photos.len(),
        at = escape(&manifest.exported_at),
        bucket = escape(&manifest.bucket),
    );
    for p in &manifest.photos {
        let image = match &p.thumbnail {
            Some(t) => format!(
                "<img src=\"{}\" alt=\"{}\">",
                escape(&t.file),
                escape(&p.key)
            ),
            None => "(no thumbnail)".into(),
        };
        let claims = &p.device_claims;
        let place = match (claims.latitude, claims.longitude) {
            (Some(lat), Some(lon)) => format!("{lat:.5}, {lon:.5}"),
            _ => "—".into(),
        };
        html.push_str(&format!(
            "<figure><a href=\"{file}\">{image}</a><figcaption><code>{key}</code><br>\
             stored {stored} by {uploader}<br>taken (device) {taken}, at (device) {place}, \
             camera (device) {camera}<br>\
             SHA-256 <code>{sha}</code></figcaption></figure>\n",
            file = escape(&p.file),
            key = escape(&p.key),
            stored = escape(p.stored_at.as_deref().unwrap_or("—")),
            uploader = escape(p.uploader.as_deref().unwrap_or("(imported)")),
            taken = escape(claims.captured_at.as_deref().unwrap_or("—")),
            place = escape(&place),
            camera = escape(claims.camera_model.as_deref().unwrap_or("—")),
            sha = escape(&p.sha256),
        ));
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::manifest::{DeviceClaims, ExportedPhoto, FORMAT};

    #[test]
    fn the_contact_sheet_escapes_everything_it_shows() {
        let manifest = Manifest {
            format: FORMAT.into(),
            job_id: "j-1".into(),
            bucket: "b".into(),
            exported_at: "2026-12-02T15:00:00Z".into(),
            photos: vec![ExportedPhoto {
                file: "photos/a.jpg".into(),
                key: "jobs/j-1/a.jpg".into(),
                version_id: None,
                size: 1,
                sha256: "00".into(),
                content_type: "image/jpeg".into(),
                provenance: "granted".into(),
                uploader: Some("user:<script>alert(1)</script>".into()),
                stored_at: None,
                audit_id: "a".into(),
                thumbnail: None,
                device_claims: DeviceClaims {
                    captured_at: None,
                    latitude: None,
                    longitude: None,
                    camera_model: Some("\"><img src=x onerror=alert(1)>".into()),
                },
            }],
            retractions: vec![],
            erasures: vec![],
        };
        let html = contact_sheet(&manifest);
        assert!(!html.contains("<script>"));
        assert!(html.contains("user:&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<img src=x"));
        assert!(html.contains("&quot;&gt;&lt;img src=x"));
        assert!(html.contains("default-src 'none'"));
    }
}
