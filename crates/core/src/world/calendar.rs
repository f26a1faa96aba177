//! Civil dates and microsecond timestamps (UTC, proleptic Gregorian), without a date
//! library.

/// Microseconds in a day.
pub(crate) const DAY_US: i64 = 86_400_000_000;
/// Microseconds in an hour.
pub(crate) const HOUR_US: i64 = 3_600_000_000;

/// Days since 1970-01-01 of a civil date (Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month 1–12, day 1–31) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Months since year 0 of a timestamp: a running month number for monthly buckets.
pub(crate) fn month_number(us: i64) -> i64 {
    let (y, m, _) = civil_from_days(us.div_euclid(DAY_US));
    y * 12 + i64::from(m) - 1
}

/// The first day (days since the epoch) of a running month number.
pub(crate) fn month_start_day(month_number: i64) -> i64 {
    days_from_civil(
        month_number.div_euclid(12),
        (month_number.rem_euclid(12) + 1) as u32,
        1,
    )
}

/// `YYYY-MM-DD` of a timestamp.
pub(crate) fn iso_date(us: i64) -> String {
    let (y, m, d) = civil_from_days(us.div_euclid(DAY_US));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 3, 1), 19_783);
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(
            iso_date(days_from_civil(2024, 2, 29) * DAY_US + 5),
            "2024-02-29"
        );
    }

    #[test]
    fn months() {
        let us = days_from_civil(2025, 12, 31) * DAY_US;
        let m = month_number(us);
        assert_eq!(m % 12, 11);
        assert_eq!(month_start_day(m), days_from_civil(2025, 12, 1));
        assert_eq!(month_start_day(m + 1), days_from_civil(2026, 1, 1));
    }
}
