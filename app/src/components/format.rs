//! Text formatting for numbers and timestamps.

/// Shortens an RFC 3339 timestamp to `YYYY-MM-DD HH:MM`, or returns it unchanged when it does
/// not start with that shape.
pub fn format_timestamp(timestamp: &str) -> String {
    let bytes = timestamp.as_bytes();
    let has_date_and_minutes = bytes.len() >= 16
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && matches!(bytes[10], b'T' | b't' | b' ')
        && bytes[13] == b':';
    let parts = (timestamp.get(..10), timestamp.get(11..16));
    match parts {
        (Some(date), Some(time)) if has_date_and_minutes => format!("{date} {time}"),
        _ => timestamp.to_string(),
    }
}

/// Formats a coherence score or log-likelihood with three decimals, or a dash when missing.
pub fn format_score(score: Option<f64>) -> String {
    match score {
        Some(score) => format!("{score:.3}"),
        None => "–".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_shortened_to_minutes() {
        assert_eq!(
            format_timestamp("2024-03-05T14:07:09.123Z"),
            "2024-03-05 14:07"
        );
        assert_eq!(
            format_timestamp("2024-03-05 14:07:09+00:00"),
            "2024-03-05 14:07"
        );
    }

    #[test]
    fn timestamp_other_shape_unchanged() {
        assert_eq!(format_timestamp("yesterday"), "yesterday");
        assert_eq!(format_timestamp("2024-03-05"), "2024-03-05");
        assert_eq!(format_timestamp("ééééééééééééééééé"), "ééééééééééééééééé");
        assert_eq!(format_timestamp("2024-03-05T14:0é"), "2024-03-05T14:0é");
    }

    #[test]
    fn score_three_decimals_or_dash() {
        assert_eq!(format_score(Some(0.51234)), "0.512");
        assert_eq!(format_score(Some(-2.0)), "-2.000");
        assert_eq!(format_score(None), "–");
    }
}
