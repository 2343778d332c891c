//! `spec.switchover.window`: when a planned switchover the manifest asks for may start. A
//! change of `spec.primary` merged at 3 p.m. is an outage at 3 p.m.; with a window it waits
//! for the site's quiet hours, in the site's own time zone (a controller on UTC would
//! otherwise move them by hours).
//!
//! The time zone is resolved when the manifest is read, so the planner stays pure and a
//! misspelt zone is an error of the manifest, with its line, not of some later pass.

use std::fmt;

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `spec.switchover`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SwitchoverSpec {
    /// When a switchover asked for by changing `spec.primary` may start; it waits until
    /// then (and one already under way runs to its end). A person's `galaxy-ha failover
    /// SITE` and a failover after a failure never wait for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// Days and hours in a time zone.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Window {
    /// The days the window opens on (`Mon` … `Sun`); every day when left out. A window that
    /// runs past midnight belongs to the day it opens on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<Day>,
    /// `HH:MM-HH:MM`, local time in `timeZone`: `01:00-05:00`, or `22:00-02:00` past midnight.
    #[schemars(with = "String", regex(pattern = HOURS_PATTERN))]
    pub hours: Hours,
    /// The site's time zone, an IANA name such as `America/Chicago` or `Europe/London`.
    #[schemars(with = "String", length(min = 1))]
    pub time_zone: Zone,
}

/// A day of the week as the manifest writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    fn weekday(self) -> Weekday {
        match self {
            Day::Mon => Weekday::Monday,
            Day::Tue => Weekday::Tuesday,
            Day::Wed => Weekday::Wednesday,
            Day::Thu => Weekday::Thursday,
            Day::Fri => Weekday::Friday,
            Day::Sat => Weekday::Saturday,
            Day::Sun => Weekday::Sunday,
        }
    }
}

/// The pattern of `hours`, for the JSON Schema.
pub const HOURS_PATTERN: &str =
    r"^\s*([01][0-9]|2[0-3]):[0-5][0-9]\s*-\s*(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)\s*$";

/// Opening and closing time; a close at or before the opening runs past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub from: Time,
    /// `None` for `24:00`, the end of the day.
    pub to: Option<Time>,
}

impl Hours {
    /// Parses `HH:MM-HH:MM`.
    ///
    /// # Errors
    /// Not that form, or a window that never opens (`10:00-10:00`).
    pub fn parse(text: &str) -> Result<Hours, String> {
        let bad = || format!("{text:?} is not HH:MM-HH:MM (24-hour clock, e.g. 01:00-05:00)");
        let (from, to) = text.split_once('-').ok_or_else(bad)?;
        let clock = |t: &str| -> Result<Option<Time>, String> {
            let t = t.trim();
            let (h, m) = t.split_once(':').ok_or_else(bad)?;
            if h.len() != 2 || m.len() != 2 {
                return Err(bad());
            }
            let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            if (h, m) == (24, 0) {
                return Ok(None);
            }
            Time::new(h, m, 0, 0).map(Some).map_err(|_| bad())
        };
        let Some(from) = clock(from)? else {
            return Err(bad());
        };
        let to = clock(to)?;
        if to == Some(from) {
            return Err(format!(
                "{text:?} opens and closes at the same time: the window would never be open"
            ));
        }
        Ok(Hours { from, to })
    }

    fn wraps(&self) -> bool {
        self.to.is_some_and(|to| to < self.from)
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |t: Time| format!("{:02}:{:02}", t.hour(), t.minute());
        let to = self.to.map_or("24:00".to_string(), hm);
        write!(f, "{}-{to}", hm(self.from))
    }
}

impl Serialize for Hours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Hours::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A time zone by its IANA name, resolved when read.
#[derive(Debug, Clone)]
pub struct Zone {
    pub name: String,
    zone: TimeZone,
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Zone {
    /// # Errors
    /// No time zone of that name in the time zone database.
    pub fn named(name: &str) -> Result<Zone, String> {
        let zone = TimeZone::get(name).map_err(|e| {
            format!("{name:?} is not a time zone ({e}); write an IANA name such as America/Chicago or Europe/London")
        })?;
        Ok(Zone {
            name: name.to_string(),
            zone,
        })
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Zone::named(String::deserialize(d)?.trim()).map_err(serde::de::Error::custom)
    }
}

impl Window {
    /// `None` while the window is open at `now`; otherwise when it next opens, in the
    /// site's time zone.
    pub fn next_opening(&self, now: Timestamp) -> Option<Zoned> {
        let local = now.to_zoned(self.time_zone.zone.clone());
        let on =
            |day: Weekday| self.days.is_empty() || self.days.iter().any(|d| d.weekday() == day);
        let t = local.time();
        let today = on(local.weekday());
        let open = match self.hours.to {
            _ if self.hours.wraps() => {
                let to = self.hours.to.unwrap_or(Time::MAX);
                (today && t >= self.hours.from) || (t < to && on(local.weekday().wrapping_sub(1)))
            }
            Some(to) => today && t >= self.hours.from && t < to,
            None => today && t >= self.hours.from,
        };
        if open {
            return None;
        }
        (0..=7).find_map(|days: i64| {
            let date = local.date().checked_add(days.days()).ok()?;
            if !on(date.weekday()) {
                return None;
            }
            let opens = date
                .to_datetime(self.hours.from)
                .to_zoned(self.time_zone.zone.clone())
                .ok()?;
            (opens.timestamp() > now).then_some(opens)
        })
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.days.is_empty() {
            let days: Vec<String> = self.days.iter().map(|d| format!("{d:?}")).collect();
            write!(f, "{} ", days.join(", "))?;
        }
        write!(f, "{} {}", self.hours, self.time_zone.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(days: &[Day], hours: &str) -> Window {
        Window {
            days: days.to_vec(),
            hours: Hours::parse(hours).unwrap(),
            time_zone: Zone::named("America/Chicago").unwrap(),
        }
    }

    fn at(text: &str) -> Timestamp {
        // Local times in Chicago, as an admin there reads them.
        text.parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(TimeZone::get("America/Chicago").unwrap())
            .unwrap()
            .timestamp()
    }

    fn opens(w: &Window, now: &str) -> Option<String> {
        w.next_opening(at(now))
            .map(|z| z.datetime().strftime("%a %Y-%m-%d %H:%M").to_string())
    }

    #[test]
    fn a_window_is_open_on_its_days_and_hours_in_the_sites_time_zone() {
        // 2026-12-05 is a Saturday.
        let weekend = window(&[Day::Sat, Day::Sun], "01:00-05:00");
        assert_eq!(opens(&weekend, "2026-12-05T02:30"), None);
        assert_eq!(opens(&weekend, "2026-12-06T04:59"), None);
        assert_eq!(
            opens(&weekend, "2026-12-06T05:00").as_deref(),
            Some("Sat 2026-12-12 01:00")
        );
        assert_eq!(
            opens(&weekend, "2026-12-02T15:00").as_deref(),
            Some("Sat 2026-12-05 01:00")
        );
        assert_eq!(
            opens(&weekend, "2026-12-05T00:59").as_deref(),
            Some("Sat 2026-12-05 01:00")
        );
    }

    #[test]
    fn a_window_past_midnight_belongs_to_the_day_it_opens_on() {
        let friday_night = window(&[Day::Fri], "22:00-02:00");
        // Friday 2026-12-04 23:00 and Saturday 01:00 are inside; Saturday 23:00 is not.
        assert_eq!(opens(&friday_night, "2026-12-04T23:00"), None);
        assert_eq!(opens(&friday_night, "2026-12-05T01:59"), None);
        assert_eq!(
            opens(&friday_night, "2026-12-05T23:00").as_deref(),
            Some("Fri 2026-12-11 22:00")
        );
        // Thursday 01:00 follows Wednesday, not Friday.
        assert_eq!(
            opens(&friday_night, "2026-12-03T01:00").as_deref(),
            Some("Fri 2026-12-04 22:00")
        );
        let every_evening = window(&[], "20:00-24:00");
        assert_eq!(opens(&every_evening, "2026-12-02T23:59"), None);
        assert_eq!(
            opens(&every_evening, "2026-12-02T08:00").as_deref(),
            Some("Wed 2026-12-02 20:00")
        );
    }

    #[test]
    fn bad_hours_and_zones_say_how_to_write_them() {
        for bad in [
            "1:00-5:00",
            "01:00",
            "25:00-02:00",
            "01:00-24:30",
            "24:00-02:00",
        ] {
            let e = Hours::parse(bad).unwrap_err();
            assert!(e.contains("HH:MM-HH:MM"), "{bad}: {e}");
        }
        let e = Hours::parse("10:00-10:00").unwrap_err();
        assert!(e.contains("never be open"), "{e}");
        let e = Zone::named("America/Chicgo").unwrap_err();
        assert!(e.contains("IANA"), "{e}");
        let w = window(&[Day::Sat, Day::Sun], "01:00-05:00");
        assert_eq!(w.to_string(), "Sat, Sun 01:00-05:00 America/Chicago");
    }
}
