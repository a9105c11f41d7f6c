//! A small line chart drawn as inline SVG, so it renders on the server and needs no script.

use leptos::prelude::*;

const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 48.0;
const PADDING: f64 = 3.0;

/// Draws `values` left to right, scaled so the lowest value touches the bottom and the highest
/// the top. Renders nothing for fewer than two values.
#[component]
pub fn Sparkline(
    /// Values in drawing order, for example one per training step.
    values: Vec<f64>,
    /// Accessible description of what the line shows.
    #[prop(into)]
    label: String,
) -> impl IntoView {
    polyline_points(&values).map(|points| {
        view! {
            <svg
                class="sparkline"
                viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                width=WIDTH
                height=HEIGHT
                role="img"
                aria-label=label
            >
                <polyline points=points fill="none" stroke="currentColor" stroke-width="1.5" />
            </svg>
        }
    })
}

/// Returns the SVG `points` attribute for `values`, or `None` when there are fewer than two.
fn polyline_points(values: &[f64]) -> Option<String> {
    if values.len() < 2 {
        return None;
    }

    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // A flat series would divide by zero, so it is drawn as a line through the middle.
    let range = if max > min { max - min } else { 1.0 };
    let offset = if max > min { 0.0 } else { 0.5 };
    let step = (WIDTH - 2.0 * PADDING) / (values.len() - 1) as f64;
    let drawable_height = HEIGHT - 2.0 * PADDING;

    let points = values
        .iter()
        .enumerate()
        .map(|(i, value)| {
            let x = PADDING + step * i as f64;
            let y = PADDING + drawable_height * (1.0 - ((value - min) / range + offset));
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    Some(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_span_the_box() {
        let points = polyline_points(&[-10.0, -5.0, 0.0]).unwrap();

        assert_eq!(points, "3.0,45.0 120.0,24.0 237.0,3.0");
    }

    #[test]
    fn flat_series_drawn_in_middle() {
        let points = polyline_points(&[2.0, 2.0]).unwrap();

        assert_eq!(points, "3.0,24.0 237.0,24.0");
    }

    #[test]
    fn single_value_draws_nothing() {
        assert_eq!(polyline_points(&[1.0]), None);
        assert_eq!(polyline_points(&[]), None);
    }
}
