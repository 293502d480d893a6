//! Unix timestamps as UTC calendar dates, for block times and keystore file
//! names, without pulling in a date library.

/// A Unix timestamp as `YYYY-MM-DD hh:mm:ss UTC`.
pub(crate) fn format_utc(unix_seconds: u64) -> String {
    let (year, month, day, hour, minute, second) = civil_time(unix_seconds);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} UTC")
}

/// A Unix timestamp as geth names keystore files: `2016-05-17T16-32-05.000000000Z`.
pub(crate) fn format_keystore_time(unix_seconds: u64, nanoseconds: u32) -> String {
    let (year, month, day, hour, minute, second) = civil_time(unix_seconds);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}-{minute:02}-{second:02}.{nanoseconds:09}Z")
}

/// Seconds since 1970-01-01T00:00:00Z as (year, month, day, hour, minute,
/// second) in the proleptic Gregorian calendar (Howard Hinnant's
/// `civil_from_days`).
fn civil_time(unix_seconds: u64) -> (u64, u64, u64, u64, u64, u64) {
    let days = unix_seconds / 86_400;
    let second_of_day = unix_seconds % 86_400;
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a year.
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day, second_of_day / 3_600, second_of_day % 3_600 / 60, second_of_day % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(format_utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
        assert_eq!(
            format_keystore_time(1_463_502_725, 612_530_000),
            "2016-05-17T16-32-05.612530000Z"
        );
    }
}
