//! The two names every route deals in: a job's id, and the key of an upload in that job. Each is
//! only ever constructed checked, so a `JobId` or an `UploadKey` in hand is safe to put in an S3
//! key, a policy or a DynamoDB key as it is.

use std::fmt;

use uuid::Uuid;

use crate::domain::image_type::ImageType;

pub const MAX_JOB_ID_LEN: usize = 64;

/// 1–64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(String);

impl JobId {
    pub fn parse(raw: &str) -> Result<JobId, InvalidJobId> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_JOB_ID_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if valid {
            Ok(JobId(raw.to_owned()))
        } else {
            Err(InvalidJobId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `jobs/{job_id}/`, the prefix every object of the job lives under.
    pub fn prefix(&self) -> String {
        format!("jobs/{}/", self.0)
    }
}

/// A job id that is not 1–64 characters of `[A-Za-z0-9_-]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidJobId;

impl fmt::Display for InvalidJobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("job_id must be 1-64 characters of letters, digits, '_' or '-'.")
    }
}

impl std::error::Error for InvalidJobId {}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `jobs/{job_id}/{uuid}.{ext}`: v7 (time-ordered, so a listing is in upload order) is the only
/// shape the server issues; other versions are photos stored before it, registered by `import`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadKey {
    key: String,
    image: ImageType,
}

impl UploadKey {
    /// A fresh key for a new upload to `job`.
    pub fn generate(job: &JobId, image: ImageType) -> UploadKey {
        Self::new(job, Uuid::now_v7(), image)
    }

    /// The key of upload `id` (a UUID v7) in `job`.
    pub fn new(job: &JobId, id: Uuid, image: ImageType) -> UploadKey {
        let job = job.as_str();
        let mut key = String::with_capacity(6 + job.len() + 1 + 36 + 1 + image.ext().len());
        key.push_str("jobs/");
        key.push_str(job);
        key.push('/');
        key.push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        key.push('.');
        key.push_str(image.ext());
        UploadKey { key, image }
    }

    /// `raw` as a key the server could have issued for `job`, or `None`.
    pub fn parse(job: &JobId, raw: &str) -> Option<UploadKey> {
        Self::parse_stored(job, raw).filter(UploadKey::is_granted)
    }

    /// `raw` as a key of `job` with any UUID in it: what this service issues (v7), or what the
    /// Lambda before it wrote (`jobs/{job}/{uuid4}.jpg`), which `import` registers.
    pub fn parse_stored(job: &JobId, raw: &str) -> Option<UploadKey> {
        let name = raw
            .strip_prefix("jobs/")?
            .strip_prefix(job.as_str())?
            .strip_prefix('/')?;
        let (id, ext) = name.split_once('.')?;
        let is_lower_hyphenated = id.len() == 36
            && !id.bytes().any(|b| b.is_ascii_uppercase())
            && Uuid::try_parse(id).is_ok();
        let image = ImageType::by_ext(ext).filter(|_| is_lower_hyphenated)?;
        Some(UploadKey {
            key: raw.to_owned(),
            image,
        })
    }

    /// A key this service issues (UUID v7), as opposed to one stored before it.
    pub fn is_granted(&self) -> bool {
        self.uuid().get_version_num() == 7
    }

    /// `granted` (issued by this service) or `imported` (stored before it): what the record and
    /// the listing say of a photo's origin.
    pub fn provenance(&self) -> &'static str {
        if self.is_granted() {
            "granted"
        } else {
            "imported"
        }
    }

    fn uuid(&self) -> Uuid {
        let id = self.file_name().split('.').next().unwrap_or_default();
        Uuid::try_parse(id).unwrap_or_default()
    }

    /// The name a listing sorts this photo by, in upload order: a v7 key's own file name; for a
    /// key stored before this service, a v7 name made from the time S3 stored it (`stored_ms`,
    /// Unix milliseconds) and the key's own random bits, so imported photos sit among new ones
    /// by date.
    pub fn listing_name(&self, stored_ms: u64) -> String {
        if self.is_granted() {
            return self.file_name().to_owned();
        }
        let mut bytes = *self.uuid().as_bytes();
        bytes[..6].copy_from_slice(&stored_ms.to_be_bytes()[2..]);
        let id = uuid::Builder::from_bytes(bytes)
            .with_version(uuid::Version::SortRand)
            .with_variant(uuid::Variant::RFC4122)
            .into_uuid();
        format!("{}.{}", id.hyphenated(), self.image.ext())
    }

    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// `{uuid v7}.{ext}`: the key within its job.
    pub fn file_name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or_default()
    }

    /// The type the key was issued for (its extension).
    pub fn image_type(&self) -> ImageType {
        self.image
    }
}

impl fmt::Display for UploadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

/// Where the thumbnail of one stored version goes: outside `jobs/`, so writing it never
/// triggers the pipeline again.
pub fn thumbnail_key(key: &UploadKey, version: Option<&str>) -> String {
    format!("thumbs/{}/{}.jpg", key.as_str(), version.unwrap_or("null"))
}

/// Where evidence archives (`POST /exports`) live: outside `jobs/` and `thumbs/`.
pub const ARCHIVES_PREFIX: &str = "exports/";
/// How long the bucket keeps an archive (template.yaml's lifecycle rule on [`ARCHIVES_PREFIX`]).
pub const ARCHIVE_DAYS: u64 = 7;

/// Where one export's archive goes; every archive of `job` is under `{ARCHIVES_PREFIX}{job}/`.
pub fn archive_key(job: &JobId, export_id: &str) -> String {
    format!("{ARCHIVES_PREFIX}{job}/{export_id}.zip")
}

/// The export id an archive key (as [`archive_key`] makes it) names.
pub fn archive_export_id(key: &str) -> &str {
    key.rsplit('/')
        .next()
        .unwrap_or(key)
        .trim_end_matches(".zip")
}

/// When an id made as a UUID v7 (an export id, an audit id) was made, in Unix seconds.
pub fn v7_secs(id: &str) -> Option<u64> {
    let (secs, _) = Uuid::parse_str(id).ok()?.get_timestamp()?.to_unix();
    Some(secs)
}

/// How the client will send the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMethod {
    /// A browser form: any size from 1 byte to `max_bytes`, checked by the policy.
    Post,
    /// One PUT of exactly `max_bytes` bytes, checked by the signed `Content-Length`.
    Put,
}

impl UploadMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadMethod::Post => "POST",
            UploadMethod::Put => "PUT",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str) -> JobId {
        JobId::parse(id).unwrap()
    }

    #[test]
    fn an_archive_key_names_its_export_id() {
        let id = "01a238ba-15ae-701b-b21b-6e7fe1fe5c46";
        let key = archive_key(&job("j-1"), id);
        assert_eq!(key, format!("exports/j-1/{id}.zip"));
        assert_eq!(archive_export_id(&key), id);
    }

    #[test]
    fn job_ids_are_letters_digits_dash_and_underscore_up_to_64() {
        for ok in ["j-12345", "A_b-9", &"x".repeat(64)] {
            assert_eq!(JobId::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn job_ids_that_could_bend_a_key_are_refused() {
        for bad in [
            "",
            "..",
            "a/b",
            "a%2Fb",
            "jöb",
            "j\u{2010}1",
            "a b",
            "a.b",
            &"x".repeat(65),
            "j\0",
        ] {
            assert_eq!(JobId::parse(bad), Err(InvalidJobId), "{bad:?}");
        }
    }

    #[test]
    fn generated_keys_parse_back_for_their_job_only_and_sort_by_time() {
        let jpeg = ImageType::by_mime("image/jpeg").unwrap();
        let keys: Vec<UploadKey> = (0..200)
            .map(|_| UploadKey::generate(&job("j-1"), jpeg))
            .collect();
        for key in &keys {
            let raw = key.as_str();
            assert!(
                raw.starts_with("jobs/j-1/") && raw.ends_with(".jpg"),
                "{raw}"
            );
            assert_eq!(UploadKey::parse(&job("j-1"), raw).as_ref(), Some(key));
            assert_eq!(UploadKey::parse(&job("j-2"), raw), None);
            assert_eq!(
                UploadKey::parse(&job("j"), raw),
                None,
                "a prefix of the job id"
            );
            assert_eq!(key.image_type(), jpeg);
        }
        let mut sorted = keys.clone();
        sorted.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        assert_eq!(sorted, keys, "v7 keys list in creation order");
    }

    #[test]
    fn keys_the_server_would_never_issue_are_refused() {
        let v4 = Uuid::from_u128(0x0190a0b2_3c4d_4e8f_9a0b_1c2d3e4f5a6b);
        let v7 = "0190a0b2-3c4d-7e8f-9a0b-1c2d3e4f5a6b";
        let j = job("j");
        let png = UploadKey::parse(&j, &format!("jobs/j/{v7}.png")).unwrap();
        assert_eq!(png.image_type().mime(), "image/png");
        for bad in [
            format!("jobs/j/{v7}.exe"),
            format!("jobs/j/{v7}.svg"),
            format!("jobs/j/{v7}"),
            format!("jobs/j/{}.jpg", v7.to_uppercase()),
            format!("jobs/j/{}.jpg", v7.replace('-', "")),
            format!("jobs/j/{}.jpg", v4.hyphenated()),
            format!("jobs/j/../k/{v7}.jpg"),
            format!("jobs/j/x/{v7}.jpg"),
            format!("/jobs/j/{v7}.jpg"),
            format!("jobs/j/{v7}.jpg.jpg"),
        ] {
            assert_eq!(UploadKey::parse(&j, &bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_stored_before_this_service_parse_as_stored_and_list_by_their_date() {
        let j = job("j");
        let v4 = "3f2c1b8e-9d4a-4c2b-8e1f-0a9b8c7d6e5f";
        let legacy = UploadKey::parse_stored(&j, &format!("jobs/j/{v4}.jpg")).unwrap();
        assert!(!legacy.is_granted());
        assert_eq!(UploadKey::parse(&j, legacy.as_str()), None, "never granted");
        let earlier = legacy.listing_name(1_700_000_000_000);
        let later = legacy.listing_name(1_700_000_000_001);
        assert!(earlier < later && earlier.ends_with(".jpg"), "{earlier}");
        let name = Uuid::try_parse(earlier.trim_end_matches(".jpg")).unwrap();
        assert_eq!(name.get_version_num(), 7);
        // A key issued after the import's stored time lists after it, and keeps its own name.
        let fresh = UploadKey::generate(&j, legacy.image_type());
        assert!(fresh.is_granted());
        assert_eq!(fresh.listing_name(0), fresh.file_name());
        assert!(later.as_str() < fresh.file_name());
        for bad in [
            format!("jobs/j/{}.jpg", v4.to_uppercase()),
            format!("jobs/j/{v4}.exe"),
        ] {
            assert_eq!(UploadKey::parse_stored(&j, &bad), None, "{bad}");
        }
    }
}
