//! The seat timeline: one step line per seat type, drawn by the server as SVG from the seat
//! ledger (no script). However many events a customer has, a line has at most five path
//! commands per pixel column: the events of one column keep their lowest, highest and last
//! count, so a short-lived peak stays visible.

use maud::{Markup, html};
use std::collections::BTreeMap;
use tally_domain::Timestamp;
use tally_domain::seats::SeatPoint;

const WIDTH: i64 = 720;
const HEIGHT: i64 = 220;
const LEFT: i64 = 44;
const RIGHT: i64 = 12;
const TOP: i64 = 12;
const BOTTOM: i64 = 28;
const COLORS: [&str; 6] = [
    "#1d4ed8", "#b45309", "#15803d", "#7e22ce", "#be123c", "#0f766e",
];

/// One seat type's line: its code, its count now, and the path of its steps.
#[derive(Debug, PartialEq, Eq)]
pub struct Series {
    pub feature: String,
    pub last: i64,
    pub path: String,
}

/// The counts of one pixel column.
#[derive(Clone, Copy)]
struct Column {
    x: i64,
    low: i64,
    high: i64,
    last: i64,
}

/// The lines of `events` (oldest first) between `from` and `to`, on a plot whose counts run
/// from 0 to `top`.
fn series(events: &[&SeatPoint], from: Timestamp, to: Timestamp, top: i64) -> Vec<Series> {
    let span = (to.as_millis() - from.as_millis()).max(1);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x_of = |at: Timestamp| {
        let offset = (at.as_millis() - from.as_millis()).clamp(0, span);
        LEFT + i64::try_from(i128::from(offset) * i128::from(plot_width) / i128::from(span))
            .unwrap_or(plot_width)
    };
    let y_of = |count: i64| {
        let count = count.clamp(0, top);
        TOP + plot_height - count.saturating_mul(plot_height) / top.max(1)
    };
    let mut by_feature: BTreeMap<&str, (i64, Vec<Column>)> = BTreeMap::new();
    for event in events {
        let x = x_of(event.ts);
        // A line starts from the count before its first event.
        let (_, columns) = by_feature
            .entry(event.feature_code.as_str())
            .or_insert((event.previous_balance, Vec::new()));
        match columns.last_mut() {
            Some(column) if column.x == x => {
                column.low = column.low.min(event.new_balance);
                column.high = column.high.max(event.new_balance);
                column.last = event.new_balance;
            }
            _ => columns.push(Column {
                x,
                low: event.new_balance,
                high: event.new_balance,
                last: event.new_balance,
            }),
        }
    }
    by_feature
        .into_iter()
        .map(|(feature, (start, columns))| {
            let first_x = columns.first().map_or(LEFT, |c| c.x);
            let mut path = format!("M{first_x} {}", y_of(start));
            let mut last = start;
            for column in &columns {
                path.push_str(&format!(" H{} V{}", column.x, y_of(last)));
                if column.low != column.high {
                    path.push_str(&format!(" V{} V{}", y_of(column.low), y_of(column.high)));
                }
                path.push_str(&format!(" V{}", y_of(column.last)));
                last = column.last;
            }
            path.push_str(&format!(" H{}", WIDTH - RIGHT));
            Series {
                feature: feature.to_owned(),
                last,
                path,
            }
        })
        .collect()
}

/// The chart of `events` (newest first, as the ledger reads them) up to `now`.
pub fn seat_timeline(events: &[SeatPoint], now: Timestamp) -> Markup {
    let mut oldest_first: Vec<&SeatPoint> = events.iter().collect();
    oldest_first.reverse();
    let Some(first) = oldest_first.first() else {
        return html! { p class="muted" id="seat-chart-empty" { "No seat changes yet." } };
    };
    let from = first.ts;
    let to = now.max(oldest_first.last().map_or(now, |e| e.ts));
    let top = oldest_first
        .iter()
        .map(|e| e.new_balance.max(e.previous_balance))
        .max()
        .unwrap_or(0)
        .max(1);
    let lines = series(&oldest_first, from, to, top);
    let baseline = HEIGHT - BOTTOM;
    html! {
        svg id="seat-chart" role="img" viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) width="100%"
            aria-label=(format!("Seats over time, {} changes", events.len())) data-events=(events.len()) {
            title { "Seats over time" }
            line x1=(LEFT) y1=(TOP) x2=(LEFT) y2=(baseline) stroke="#a1a1aa" {}
            line x1=(LEFT) y1=(baseline) x2=(WIDTH - RIGHT) y2=(baseline) stroke="#a1a1aa" {}
            text x=(LEFT - 6) y=(TOP + 4) text-anchor="end" { (top) }
            text x=(LEFT - 6) y=(baseline) text-anchor="end" { "0" }
            text x=(LEFT) y=(HEIGHT - 8) { (super::when(from)) }
            text x=(WIDTH - RIGHT) y=(HEIGHT - 8) text-anchor="end" { (super::when(to)) }
            @for (index, line) in lines.iter().enumerate() {
                path d=(line.path) fill="none" stroke-width="2" stroke=(COLORS[index % COLORS.len()])
                    data-feature=(line.feature) data-last=(line.last) {}
            }
        }
        ul class="legend" {
            @for (index, line) in lines.iter().enumerate() {
                li style=(format!("color:{}", COLORS[index % COLORS.len()])) {
                    strong { (line.feature) } ": " (line.last) " now"
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(feature: &str, at: i64, from: i64, to: i64) -> SeatPoint {
        SeatPoint {
            feature_code: feature.to_owned(),
            previous_balance: from,
            new_balance: to,
            ts: Timestamp::from_millis(at),
        }
    }

    #[test]
    fn each_seat_type_gets_a_line_ending_at_its_count() {
        let events = [
            event("editor", 0, 0, 5),
            event("viewer", 500, 0, 2),
            event("editor", 1_000, 5, 7),
        ];
        let refs: Vec<&SeatPoint> = events.iter().collect();
        let lines = series(
            &refs,
            Timestamp::from_millis(0),
            Timestamp::from_millis(1_000),
            7,
        );
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].feature.as_str(), lines[0].last), ("editor", 7));
        assert_eq!((lines[1].feature.as_str(), lines[1].last), ("viewer", 2));
        // The editor line starts at the bottom, rises to 5, then to 7 at the right edge.
        assert!(
            lines[0]
                .path
                .starts_with(&format!("M{LEFT} {}", HEIGHT - BOTTOM))
        );
        assert!(
            lines[0]
                .path
                .ends_with(&format!("V{TOP} H{}", WIDTH - RIGHT))
        );
    }

    #[test]
    fn ten_thousand_events_draw_a_bounded_path_that_keeps_the_peak() {
        let mut events: Vec<SeatPoint> = (0..10_000)
            .map(|i| event("editor", i64::from(i) * 1_000, 10, 11 + i64::from(i % 3)))
            .collect();
        events.push(event("editor", 5_000_500, 12, 500));
        events.push(event("editor", 5_000_600, 500, 12));
        events.sort_by_key(|e| e.ts);
        let refs: Vec<&SeatPoint> = events.iter().collect();
        let to = Timestamp::from_millis(10_000_000);
        let lines = series(&refs, Timestamp::from_millis(0), to, 500);
        let commands = lines[0].path.split(' ').count();
        assert!(
            commands <= 5 * usize::try_from(WIDTH).unwrap() + 2,
            "{commands}"
        );
        // The short peak of 500 reaches the top of the plot.
        assert!(lines[0].path.contains(&format!("V{TOP}")));
    }

    #[test]
    fn no_events_draw_no_chart() {
        let markup = seat_timeline(&[], Timestamp::from_millis(0)).into_string();
        assert!(markup.contains("No seat changes yet"));
    }
}
