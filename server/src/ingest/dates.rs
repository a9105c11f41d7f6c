//! Dates in file names and date fields.

use regex::Regex;

/// Problem with a date; the document is kept undated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateProblem {
    /// Nothing in the name matched the pattern.
    Missing,
    /// The text matched the pattern's shape but is not a calendar date.
    Impossible(String),
}

/// A compiled file-name date pattern such as `%Y-%m-%d` (the default), `%Y%m%d` or `%d.%m.%Y`.
///
/// `%Y` matches four digits, `%m` and `%d` two, `%%` a percent sign; everything else is literal.
/// The pattern may match anywhere in the name but not inside a longer run of digits.
#[derive(Debug, Clone)]
pub struct DatePattern {
    source: String,
    regex: Regex,
}

/// The default file-name date pattern: an ISO date anywhere in the name.
pub const DEFAULT_DATE_PATTERN: &str = "%Y-%m-%d";

impl DatePattern {
    /// Compiles a pattern; it must contain `%Y`, `%m` and `%d` once each.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let mut regex = String::from(r"(?:^|[^0-9])");
        let mut fields = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                regex.push_str(&regex::escape(&c.to_string()));
                continue;
            }
            match chars.next() {
                Some('Y') => {
                    regex.push_str(r"(?P<year>[0-9]{4})");
                    fields.push('Y');
                }
                Some('m') => {
                    regex.push_str(r"(?P<month>[0-9]{2})");
                    fields.push('m');
                }
                Some('d') => {
                    regex.push_str(r"(?P<day>[0-9]{2})");
                    fields.push('d');
                }
                Some('%') => regex.push('%'),
                other => {
                    return Err(format!(
                        "invalid date pattern {pattern:?}: unknown field %{}; use %Y, %m and %d",
                        other.map(String::from).unwrap_or_default()
                    ));
                }
            }
        }
        regex.push_str(r"(?:[^0-9]|$)");
        for field in ['Y', 'm', 'd'] {
            let count = fields.iter().filter(|&&f| f == field).count();
            if count != 1 {
                return Err(format!(
                    "invalid date pattern {pattern:?}: it must contain %{field} exactly once"
                ));
            }
        }
        let regex = Regex::new(&regex)
            .map_err(|error| format!("invalid date pattern {pattern:?}: {error}"))?;
        Ok(Self {
            source: pattern.to_owned(),
            regex,
        })
    }

    /// Returns the pattern as the user wrote it.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Finds the first date in `name`, returned as `YYYY-MM-DD`.
    pub fn find(&self, name: &str) -> Result<String, DateProblem> {
        let captures = self.regex.captures(name).ok_or(DateProblem::Missing)?;
        let year = &captures["year"];
        let month = &captures["month"];
        let day = &captures["day"];
        let text = format!("{year}-{month}-{day}");
        if is_valid_date(
            year.parse().unwrap_or(0),
            month.parse().unwrap_or(0),
            day.parse().unwrap_or(0),
        ) {
            Ok(text)
        } else {
            Err(DateProblem::Impossible(text))
        }
    }
}

fn is_valid_date(year: i32, month: u8, day: u8) -> bool {
    let Ok(month) = time::Month::try_from(month) else {
        return false;
    };
    time::Date::from_calendar_date(year, month, day).is_ok()
}

/// Normalises a date field from CSV or JSONL: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a time part
/// after `T` or a space is dropped).
pub fn parse_date_field(value: &str) -> Result<String, DateProblem> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DateProblem::Missing);
    }
    let date_part = value.split(['T', ' ']).next().unwrap_or(value);
    let parts: Vec<&str> = date_part.split('-').collect();
    let numeric =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    let impossible = || DateProblem::Impossible(value.to_owned());
    match parts.as_slice() {
        [year] if numeric(year, 4) => Ok((*year).to_owned()),
        [year, month] if numeric(year, 4) && numeric(month, 2) => {
            let month_number: u8 = month.parse().map_err(|_| impossible())?;
            if (1..=12).contains(&month_number) {
                Ok(format!("{year}-{month}"))
            } else {
                Err(impossible())
            }
        }
        [year, month, day] if numeric(year, 4) && numeric(month, 2) && numeric(day, 2) => {
            if is_valid_date(
                year.parse().unwrap_or(0),
                month.parse().unwrap_or(0),
                day.parse().unwrap_or(0),
            ) {
                Ok(format!("{year}-{month}-{day}"))
            } else {
                Err(impossible())
            }
        }
        _ => Err(impossible()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pattern_finds_iso_date_anywhere() {
        let pattern = DatePattern::new(DEFAULT_DATE_PATTERN).unwrap();
        assert_eq!(pattern.find("1903-06-13_ed-1.txt"), Ok("1903-06-13".into()));
        assert_eq!(
            pattern.find("2012271201_1903-06-13_ed-1_seq-1_ocr.txt"),
            Ok("1903-06-13".into())
        );
        assert_eq!(
            pattern.find("speech_1945-04-16.txt"),
            Ok("1945-04-16".into())
        );
    }

    #[test]
    fn impossible_and_missing_dates() {
        let pattern = DatePattern::new(DEFAULT_DATE_PATTERN).unwrap();
        assert_eq!(
            pattern.find("2023-02-30.txt"),
            Err(DateProblem::Impossible("2023-02-30".into()))
        );
        assert_eq!(
            pattern.find("2023-13-01.txt"),
            Err(DateProblem::Impossible("2023-13-01".into()))
        );
        assert_eq!(pattern.find("notes.txt"), Err(DateProblem::Missing));
        assert_eq!(pattern.find("2024-02-29.txt"), Ok("2024-02-29".into()));
    }

    #[test]
    fn digits_inside_longer_numbers_do_not_match() {
        let pattern = DatePattern::new("%Y%m%d").unwrap();
        assert_eq!(pattern.find("letter_19030613.txt"), Ok("1903-06-13".into()));
        assert_eq!(pattern.find("id_1190306131.txt"), Err(DateProblem::Missing));
    }

    #[test]
    fn custom_pattern_with_day_first() {
        let pattern = DatePattern::new("%d.%m.%Y").unwrap();
        assert_eq!(
            pattern.find("brief 13.06.1903.txt"),
            Ok("1903-06-13".into())
        );
    }

    #[test]
    fn pattern_without_fields_is_rejected() {
        let error = DatePattern::new("%Y-%m").unwrap_err();
        assert!(error.contains("%d exactly once"), "{error}");
        let error = DatePattern::new("%Y-%q-%d").unwrap_err();
        assert!(error.contains("unknown field %q"), "{error}");
    }

    #[test]
    fn date_fields_accept_partial_dates() {
        assert_eq!(parse_date_field("1970"), Ok("1970".into()));
        assert_eq!(parse_date_field("1970-05"), Ok("1970-05".into()));
        assert_eq!(
            parse_date_field("1970-05-21T10:00:00Z"),
            Ok("1970-05-21".into())
        );
        assert_eq!(
            parse_date_field("2023-02-30"),
            Err(DateProblem::Impossible("2023-02-30".into()))
        );
        assert_eq!(
            parse_date_field("May 1970"),
            Err(DateProblem::Impossible("May 1970".into()))
        );
        assert_eq!(parse_date_field(" "), Err(DateProblem::Missing));
    }
}
