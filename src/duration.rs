//! The one bound on every duration galaxy-ha reads, on the command line and in manifests.
//! Nothing the controller does spans more than years, and a bound keeps time arithmetic
//! (a cutoff before now, a clock moved forward) inside what timestamps can hold.

use std::time::Duration;

/// Ten years of 365 days.
pub const MAX: Duration = Duration::from_secs(3650 * 86_400);

/// [`MAX`] as it is written.
pub const MAX_TEXT: &str = "3650d";

/// Whether `d` is within [`MAX`]; otherwise the end of a message saying so.
///
/// # Errors
/// `d` is longer than [`MAX`].
pub fn check(d: Duration) -> Result<Duration, String> {
    if d > MAX {
        return Err(format!(
            "{} is longer than galaxy-ha accepts; give at most {MAX_TEXT} (ten years)",
            humantime::format_duration(d)
        ));
    }
    Ok(d)
}

/// A command-line duration (humantime: `30s`, `6m`, `2h 30m`, `7d`), at most [`MAX`].
///
/// # Errors
/// Not a duration, or too long.
pub fn parse(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| {
        format!("{e}; write a duration such as 30s, 6m, 2h 30m or 7d (at most {MAX_TEXT})")
    })?;
    check(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_up_to_ten_years_are_read_and_longer_ones_refused() {
        assert_eq!(parse("6m"), Ok(Duration::from_secs(360)));
        assert_eq!(parse(MAX_TEXT), Ok(MAX));
        for text in ["3651d", "999999999999d", "300000y"] {
            let err = parse(text).unwrap_err();
            assert!(err.contains("at most 3650d"), "{text}: {err}");
        }
        assert!(parse("soon").unwrap_err().contains("such as 30s"));
        assert!(check(MAX + Duration::from_secs(1)).is_err());
    }
}
