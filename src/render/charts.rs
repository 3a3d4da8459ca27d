//! Small bar charts drawn at build time as inline SVG: the reader's browser needs no
//! charting library, and the chart is readable without JavaScript.
//!
//! Each bar sits under its label, and bar widths are percentages of the chart's
//! width, so the chart reflows from a phone to a wide screen while its text keeps the
//! page's font size (a `viewBox` would scale the text down with the chart).

use std::fmt::Write;

use crate::model::Count;

/// Height of one bar's row: a line of label, then the bar.
const ROW: u32 = 42;
/// Top of a bar within its row.
const BAR_Y: u32 = 24;
const BAR_HEIGHT: u32 = 12;

/// One bar: what it counts, and its count of participants.
pub(crate) struct Bar {
    pub label: String,
    pub count: Count,
}

/// An SVG bar chart of participants, with `id` for its title and description.
///
/// The `<title>` names the chart and the `<desc>` says every number, so a screen
/// reader hears the same data the eye sees. Counts suppressed for privacy are drawn
/// as an outline up to the threshold and labelled `fewer than k`: their length says
/// no more than the label does.
pub(crate) fn participants_chart(id: &str, title: &str, bars: &[Bar]) -> String {
    let max = bars
        .iter()
        .map(|b| drawn_value(&b.count))
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW * bars.len().max(1) as u32;
    let mut desc = String::new();
    let mut rows = String::new();
    for (i, bar) in bars.iter().enumerate() {
        let label = count_label(&bar.count);
        if !desc.is_empty() {
            desc.push_str("; ");
        }
        let _ = write!(desc, "{}: {label}", bar.label);
        let top = ROW * i as u32;
        let width = percent(drawn_value(&bar.count), max);
        let _ = write!(
            rows,
            "<text class=\"label\" x=\"0\" y=\"{}\">{} <tspan class=\"value\">{}</tspan></text>",
            top + 16,
            escape(&bar.label),
            escape(&label),
        );
        let class = if bar.count.is_hidden() {
            "bar bar-suppressed"
        } else {
            "bar"
        };
        if width != "0" {
            let _ = write!(
                rows,
                "<rect class=\"{class}\" x=\"0\" y=\"{}\" width=\"{width}%\" height=\"{BAR_HEIGHT}\"/>",
                top + BAR_Y,
            );
        }
        let _ = write!(
            rows,
            "<line class=\"axis\" x1=\"0\" x2=\"0\" y1=\"{}\" y2=\"{}\"/>",
            top + BAR_Y - 2,
            top + BAR_Y + BAR_HEIGHT + 2,
        );
    }
    format!(
        "<svg class=\"bar-chart\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" width=\"100%\" height=\"{height}\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}.</desc>{rows}</svg>",
        escape(title),
        escape(&desc),
    )
}

/// The number a bar is drawn to: a suppressed count is drawn at its threshold.
fn drawn_value(c: &Count) -> usize {
    if c.is_hidden() {
        c.hide_below as usize
    } else {
        c.participants
    }
}

fn count_label(c: &Count) -> String {
    match c.participants {
        _ if c.is_hidden() => format!("fewer than {} participants", c.hide_below),
        0 => "no participants".into(),
        1 => "1 participant".into(),
        n => format!("{n} participants"),
    }
}

/// `value` as a percentage of `max`, with at most one decimal, for stable output.
fn percent(value: usize, max: usize) -> String {
    let tenths = (value * 1000 + max / 2) / max;
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(participants: usize, hide_below: u32) -> Count {
        Count {
            quotes: participants * 2,
            participants,
            hide_below,
        }
    }

    #[test]
    fn bars_are_percentages_of_the_largest_and_every_number_is_in_the_description() {
        let svg = participants_chart(
            "c",
            "Participants per site",
            &[
                Bar {
                    label: "Kampala & Co".into(),
                    count: count(4, 0),
                },
                Bar {
                    label: "Moshi".into(),
                    count: count(3, 0),
                },
                Bar {
                    label: "Haifa".into(),
                    count: count(0, 0),
                },
            ],
        );
        assert!(svg.contains(r#"width="100%" height="12""#), "{svg}");
        assert!(svg.contains(r#"width="75%""#), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2, "no bar for zero: {svg}");
        assert!(svg.contains(
            "<desc id=\"c-desc\">Kampala &amp; Co: 4 participants; Moshi: 3 participants; Haifa: no participants.</desc>"
        ));
        assert!(svg.contains(r#"aria-labelledby="c-title c-desc""#));
        assert!(svg.contains(r#"height="126""#));
    }

    #[test]
    fn a_suppressed_count_is_drawn_at_its_threshold_and_never_told() {
        let svg = participants_chart(
            "c",
            "t",
            &[
                Bar {
                    label: "A".into(),
                    count: count(10, 3),
                },
                Bar {
                    label: "B".into(),
                    count: count(1, 3),
                },
            ],
        );
        assert!(
            svg.contains(r#"class="bar bar-suppressed" x="0" y="66" width="30%""#),
            "{svg}"
        );
        assert!(svg.contains("B: fewer than 3 participants"));
        assert!(!svg.contains("B: 1"));
    }

    #[test]
    fn percentages_are_rounded_to_tenths() {
        assert_eq!(percent(1, 3), "33.3");
        assert_eq!(percent(2, 3), "66.7");
        assert_eq!(percent(3, 3), "100");
        assert_eq!(percent(0, 3), "0");
    }
}
