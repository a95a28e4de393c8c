//! UTC calendar formatting for signatures, policies and audit rows.
//!
//! Hand-rolled (Howard Hinnant's `civil_from_days`) because it sits on the signing hot path, where
//! a general date library would allocate and parse format strings on every call.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC instant broken into calendar fields, plus the milliseconds within the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcTime {
    pub unix_secs: u64,
    pub year: u32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millis: u16,
}

impl UtcTime {
    /// Instants before 1970 do not occur here (clocks, credential expiries); they clamp to the epoch.
    pub fn from_system_time(t: SystemTime) -> Self {
        let since = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let mut utc = Self::from_unix_secs(since.as_secs());
        utc.millis = since.subsec_millis() as u16;
        utc
    }

    pub fn from_unix_secs(unix_secs: u64) -> Self {
        let days = unix_secs / 86_400;
        let secs_of_day = unix_secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        UtcTime {
            unix_secs,
            year,
            month,
            day,
            hour: (secs_of_day / 3600) as u8,
            minute: (secs_of_day % 3600 / 60) as u8,
            second: (secs_of_day % 60) as u8,
            millis: 0,
        }
    }

    /// `20151229` — the date part of a SigV4 credential scope.
    pub fn date_stamp(&self) -> [u8; 8] {
        let mut out = [b'0'; 8];
        put_digits(&mut out[0..4], self.year);
        put_digits(&mut out[4..6], self.month.into());
        put_digits(&mut out[6..8], self.day.into());
        out
    }

    /// `20151229T000000Z` — the SigV4 `x-amz-date` form.
    pub fn amz_date(&self) -> [u8; 16] {
        let mut out = [b'0'; 16];
        out[..8].copy_from_slice(&self.date_stamp());
        out[8] = b'T';
        put_digits(&mut out[9..11], self.hour.into());
        put_digits(&mut out[11..13], self.minute.into());
        put_digits(&mut out[13..15], self.second.into());
        out[15] = b'Z';
        out
    }

    /// `2015-12-30T12:00:00Z` — RFC 3339 to the second, as POST policies and API responses carry it.
    pub fn rfc3339(&self) -> String {
        let mut out = [0u8; 20];
        self.write_rfc3339_prefix(&mut out[..19]);
        out[19] = b'Z';
        ascii_string(&out)
    }

    /// `2015-12-30T12:00:00.123Z` — fixed width, so audit sort keys order lexicographically.
    pub fn rfc3339_millis(&self) -> String {
        let mut out = [0u8; 24];
        self.write_rfc3339_prefix(&mut out[..19]);
        out[19] = b'.';
        put_digits(&mut out[20..23], self.millis.into());
        out[23] = b'Z';
        ascii_string(&out)
    }

    fn write_rfc3339_prefix(&self, out: &mut [u8]) {
        put_digits(&mut out[0..4], self.year);
        out[4] = b'-';
        put_digits(&mut out[5..7], self.month.into());
        out[7] = b'-';
        put_digits(&mut out[8..10], self.day.into());
        out[10] = b'T';
        put_digits(&mut out[11..13], self.hour.into());
        out[13] = b':';
        put_digits(&mut out[14..16], self.minute.into());
        out[16] = b':';
        put_digits(&mut out[17..19], self.second.into());
    }
}

/// Writes `value` as zero-padded decimal filling `out` exactly.
fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn ascii_string(bytes: &[u8]) -> String {
    // Only ASCII digits and separators are ever written, so this cannot fail.
    String::from_utf8(bytes.to_vec()).unwrap_or_default()
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: u64) -> (u32, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400) as u32 + u32::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_instants_of_aws_examples() {
        let t = UtcTime::from_unix_secs(1_451_347_200); // 2015-12-29T00:00:00Z
        assert_eq!(&t.date_stamp(), b"20151229");
        assert_eq!(&t.amz_date(), b"20151229T000000Z");
        let t = UtcTime::from_unix_secs(1_369_353_600); // 2013-05-24T00:00:00Z
        assert_eq!(&t.amz_date(), b"20130524T000000Z");
        assert_eq!(UtcTime::from_unix_secs(0).rfc3339(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn leap_days_and_century_rules_are_right() {
        // 2000-02-29 (divisible by 400) and 2100-03-01 (2100 is not a leap year).
        assert_eq!(
            UtcTime::from_unix_secs(951_782_400).rfc3339(),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            UtcTime::from_unix_secs(4_107_542_400).rfc3339(),
            "2100-03-01T00:00:00Z"
        );
        assert_eq!(
            UtcTime::from_unix_secs(1_709_251_199).rfc3339(),
            "2024-02-29T23:59:59Z"
        );
    }

    #[test]
    fn agrees_with_the_time_crate_across_centuries() {
        use time::format_description::well_known::Rfc3339;
        let mut secs: u64 = 0;
        while secs < 6_000_000_000 {
            let ours = UtcTime::from_unix_secs(secs).rfc3339();
            let theirs = time::OffsetDateTime::from_unix_timestamp(secs as i64)
                .unwrap()
                .format(&Rfc3339)
                .unwrap();
            assert_eq!(ours, theirs, "at {secs}");
            secs += 7_919_993; // a prime stride visits every month, day and time-of-day field
        }
    }

    #[test]
    fn millis_are_fixed_width_so_sort_keys_order() {
        let t = UtcTime::from_system_time(UNIX_EPOCH + Duration::from_millis(1_451_347_200_007));
        assert_eq!(t.rfc3339_millis(), "2015-12-29T00:00:00.007Z");
        assert_eq!(t.unix_secs, 1_451_347_200);
    }
}
