//! Business hours: the working days and the hours of each, in a time zone, and the public
//! holidays (local dates) closed whatever their weekday, written
//! `Mon-Fri 08:00-17:00 Europe/Copenhagen closed 2026-12-24,2026-12-25`. A case's service
//! level then counts working time only — 24 hours from Friday 16:00 end on Wednesday
//! 13:00 — across daylight-saving changes by the zone's own rules.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// The working days, their opening and closing time, the zone they are in, and the dates
/// closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    /// Monday first.
    days: [bool; 7],
    open: NaiveTime,
    close: NaiveTime,
    zone: Tz,
    closed: BTreeSet<NaiveDate>,
}

/// Business hours written wrongly: what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "business hours are days, hours and a time zone, then optionally the dates closed, e.g. 'Mon-Fri 08:00-17:00 Europe/Copenhagen closed 2026-12-24,2026-12-25': {0}"
)]
pub struct BadHours(String);

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl std::str::FromStr for BusinessHours {
    type Err = BadHours;

    fn from_str(text: &str) -> Result<Self, BadHours> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        let (days, hours, zone, closed) = match parts[..] {
            [days, hours, zone] => (days, hours, zone, BTreeSet::new()),
            [days, hours, zone, word, dates] if word.eq_ignore_ascii_case("closed") => {
                (days, hours, zone, parse_dates(dates)?)
            }
            _ => {
                return Err(BadHours(format!(
                    "'{text}' is not three parts, or five with 'closed' and dates"
                )));
            }
        };
        let (open, close) = hours
            .split_once('-')
            .ok_or_else(|| BadHours(format!("'{hours}' is not two times")))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t, "%H:%M")
                .map_err(|_| BadHours(format!("'{t}' is not HH:MM")))
        };
        let (open, close) = (time(open)?, time(close)?);
        if open >= close {
            return Err(BadHours(format!(
                "{hours}: closing must come after opening"
            )));
        }
        let zone = zone.parse::<Tz>().map_err(|_| {
            BadHours(format!(
                "'{zone}' is not a time zone (e.g. Europe/Copenhagen)"
            ))
        })?;
        Ok(BusinessHours {
            days: parse_days(days)?,
            open,
            close,
            zone,
            closed,
        })
    }
}

/// `2026-12-24,2026-12-25`: the dates closed.
fn parse_dates(text: &str) -> Result<BTreeSet<NaiveDate>, BadHours> {
    text.split(',')
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| BadHours(format!("'{d}' is not a date (YYYY-MM-DD)")))
        })
        .collect()
}

/// `Mon-Fri`, `Mon,Wed,Fri` or `Mon-Fri,Sun`: the days as flags, Monday first.
fn parse_days(text: &str) -> Result<[bool; 7], BadHours> {
    let day = |d: &str| {
        DAYS.iter()
            .position(|x| x.eq_ignore_ascii_case(d))
            .ok_or_else(|| BadHours(format!("'{d}' is not a day (Mon … Sun)")))
    };
    let mut days = [false; 7];
    for part in text.split(',') {
        let (from, to) = part.split_once('-').unwrap_or((part, part));
        let (from, to) = (day(from)?, day(to)?);
        if from > to {
            return Err(BadHours(format!("'{part}' runs backwards")));
        }
        days[from..=to].iter_mut().for_each(|d| *d = true);
    }
    Ok(days)
}

impl std::fmt::Display for BusinessHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut runs: Vec<String> = Vec::new();
        let mut i = 0;
        while i < 7 {
            let start = i;
            while i < 7 && self.days[i] {
                i += 1;
            }
            match i - start {
                0 => i += 1,
                1 => runs.push(DAYS[start].to_string()),
                _ => runs.push(format!("{}-{}", DAYS[start], DAYS[i - 1])),
            }
        }
        let (open, close) = (self.open.format("%H:%M"), self.close.format("%H:%M"));
        write!(f, "{} {open}-{close} {}", runs.join(","), self.zone)?;
        if !self.closed.is_empty() {
            let dates: Vec<String> = self.closed.iter().map(ToString::to_string).collect();
            write!(f, " closed {}", dates.join(","))?;
        }
        Ok(())
    }
}

impl BusinessHours {
    /// The moment `hours` of working time after `start`.
    pub fn add(&self, start: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
        let mut left = Duration::seconds((hours * 3600.0).round() as i64);
        let mut day = start.with_timezone(&self.zone).date_naive();
        loop {
            if let Some((open, close)) = self.window(day) {
                let from = open.max(start);
                if from < close {
                    if from + left <= close {
                        return from + left;
                    }
                    left -= close - from;
                }
            }
            day = day.succ_opt().expect("a date before the end of time");
        }
    }

    /// The working window of a local day, in UTC; none on a day off or a date closed.
    fn window(&self, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let weekday: Weekday = day.weekday();
        if !self.days[weekday.num_days_from_monday() as usize] || self.closed.contains(&day) {
            return None;
        }
        let at = |t: NaiveTime| {
            let local = self.zone.from_local_datetime(&day.and_time(t));
            // A time skipped by a clock change: the hour after it.
            let local = local.earliest().or_else(|| {
                self.zone
                    .from_local_datetime(&(day.and_time(t) + Duration::hours(1)))
                    .earliest()
            })?;
            Some(local.with_timezone(&Utc))
        };
        Some((at(self.open)?, at(self.close)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn weekdays() -> BusinessHours {
        "Mon-Fri 08:00-17:00 Europe/Copenhagen".parse().unwrap()
    }

    #[test]
    fn working_time_skips_nights_and_weekends() {
        let h = weekdays();
        // Friday 16:00 in Copenhagen (UTC+1 in December): 1 h on Friday, 9 on Monday and
        // Tuesday, 5 on Wednesday.
        let friday = at("2026-12-04T15:00:00Z");
        assert_eq!(h.add(friday, 24.0), at("2026-12-09T12:00:00Z"));
        // Opened on Saturday night: the clock starts on Monday at 08:00.
        assert_eq!(
            h.add(at("2026-12-05T22:00:00Z"), 2.0),
            at("2026-12-07T09:00:00Z")
        );
        // Within one day.
        assert_eq!(
            h.add(at("2026-12-07T08:00:00Z"), 3.5),
            at("2026-12-07T11:30:00Z")
        );
        // Christmas Eve and Day closed: Thursday 24 and Friday 25 December 2026 are
        // skipped like a weekend.
        let christmas: BusinessHours =
            "Mon-Fri 08:00-17:00 Europe/Copenhagen closed 2026-12-24,2026-12-25"
                .parse()
                .unwrap();
        assert_eq!(
            christmas.add(at("2026-12-23T15:00:00Z"), 3.0),
            at("2026-12-28T09:00:00Z")
        );
        // Summer time: 08:00 in Copenhagen is 06:00 UTC.
        assert_eq!(
            h.add(at("2026-07-06T05:00:00Z"), 1.0),
            at("2026-07-06T07:00:00Z")
        );
    }

    #[test]
    fn hours_read_back_and_wrong_ones_say_why() {
        let h: BusinessHours = "mon-fri,sun 07:30-19:00 America/New_York".parse().unwrap();
        assert_eq!(h.to_string(), "Mon-Fri,Sun 07:30-19:00 America/New_York");
        assert_eq!(h.to_string().parse::<BusinessHours>().unwrap(), h);
        let closed = "Mon-Fri 08:00-17:00 UTC CLOSED 2027-01-01,2026-12-25";
        let h: BusinessHours = closed.parse().unwrap();
        assert_eq!(
            h.to_string(),
            "Mon-Fri 08:00-17:00 UTC closed 2026-12-25,2027-01-01"
        );
        assert_eq!(h.to_string().parse::<BusinessHours>().unwrap(), h);
        for (bad, why) in [
            ("Mon-Fri 08:00-17:00", "three parts"),
            ("Mon-Fri 08:00-17:00 UTC 2026-12-25", "'closed' and dates"),
            (
                "Mon-Fri 08:00-17:00 UTC open 2026-12-25",
                "'closed' and dates",
            ),
            ("Mon-Fri 08:00-17:00 UTC closed 2026-12-32", "not a date"),
            ("Mon-Fri 08:00-17:00 UTC closed 25.12.2026", "not a date"),
            ("Mon-Fri 17:00-08:00 Europe/Paris", "after opening"),
            ("Fri-Mon 08:00-17:00 Europe/Paris", "backwards"),
            ("Mon-Fry 08:00-17:00 Europe/Paris", "not a day"),
            ("Mon-Fri 8-17 Europe/Paris", "HH:MM"),
            ("Mon-Fri 08:00-17:00 Mars/Olympus", "time zone"),
        ] {
            let e = bad.parse::<BusinessHours>().unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    proptest! {
        /// Whatever the start, the hours and the dates closed, the deadline is inside
        /// working time (or at a closing), and the working time from the start to it is
        /// the hours asked for.
        #[test]
        fn the_deadline_holds_exactly_the_working_time_asked_for(
            start in 1_700_000_000i64..1_900_000_000,
            minutes in 1u32..10_000,
            closed in proptest::collection::vec(0i64..30, 0..6),
        ) {
            let start = DateTime::from_timestamp(start, 0).unwrap();
            let mut h = weekdays();
            h.closed = closed.iter().map(|d| start.date_naive() + Duration::days(*d)).collect();
            let hours = f64::from(minutes) / 60.0;
            let end = h.add(start, hours);
            let local = |t: DateTime<Utc>| t.with_timezone(&h.zone).date_naive();
            let (mut day, last) = (local(start), local(end));
            let (mut worked, mut inside) = (Duration::zero(), false);
            loop {
                if let Some((open, close)) = h.window(day) {
                    let (from, to) = (open.max(start), close.min(end));
                    if from < to {
                        worked += to - from;
                    }
                    inside |= open <= end && end <= close;
                }
                if day >= last {
                    break;
                }
                day = day.succ_opt().unwrap();
            }
            prop_assert!(inside, "the deadline is in working time");
            prop_assert!(!h.closed.contains(&local(end)), "the deadline is not on a date closed");
            prop_assert_eq!(worked, Duration::minutes(i64::from(minutes)));
        }
    }
}
