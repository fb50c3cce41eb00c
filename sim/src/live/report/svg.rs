//! The timeline picture: one row per node, a bar coloured by the serial it
//! answered (grey: no answer, red: a wrong answer), and a vertical line per
//! fault, heal and change.

use std::fmt::Write as _;

use crate::live::observe::{MarkKind, Observations, Outcome};

const LEFT: f64 = 90.0;
const WIDTH: f64 = 900.0;
const ROW: f64 = 22.0;
const TOP: f64 = 40.0;
const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7",
];

/// The SVG document of `observations`.
pub fn render(title: &str, observations: &Observations) -> String {
    let duration = observations.duration_ms.max(1) as f64;
    let x = |ms: u64| LEFT + (ms as f64 / duration) * WIDTH;
    let rows = observations.nodes.len() as f64;
    let marks_height = 14.0 * observations.marks.len() as f64;
    let height = TOP + rows * ROW + 40.0 + marks_height;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"{w}\" height=\"{height}\" fill=\"white\"/>\n\
         <text x=\"{LEFT}\" y=\"16\" font-size=\"13\">{}</text>\n",
        escape(title),
        w = LEFT + WIDTH + 20.0,
    );
    for (index, node) in observations.nodes.iter().enumerate() {
        let y = TOP + index as f64 * ROW;
        let _ = writeln!(
            svg,
            "<text x=\"4\" y=\"{}\">{}</text>",
            y + 14.0,
            escape(&node.id)
        );
        for (start, end, colour, label) in bars(observations, index) {
            let _ = writeln!(
                svg,
                "<rect x=\"{:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"{}\" fill=\"{colour}\">\
                 <title>{}</title></rect>",
                x(start),
                (x(end) - x(start)).max(0.5),
                ROW - 4.0,
                escape(&label)
            );
        }
    }
    let bottom = TOP + rows * ROW;
    for (i, mark) in observations.marks.iter().enumerate() {
        let colour = match mark.kind {
            MarkKind::Change => "#333333",
            MarkKind::Fault => "#d62728",
            MarkKind::Heal => "#2ca02c",
        };
        let mx = x(mark.at_ms);
        let label_y = bottom + 28.0 + 14.0 * i as f64;
        let _ = writeln!(
            svg,
            "<line x1=\"{mx:.1}\" y1=\"{}\" x2=\"{mx:.1}\" y2=\"{label_y}\" stroke=\"{colour}\" \
             stroke-dasharray=\"3,2\"/>\n<text x=\"{:.1}\" y=\"{label_y}\" fill=\"{colour}\">\
             {:.1}s {}</text>",
            TOP - 6.0,
            mx + 3.0,
            mark.at_ms as f64 / 1_000.0,
            escape(&mark.label)
        );
    }
    let legend_y = bottom + 14.0;
    let mut legend_x = LEFT;
    for (_, serial) in &observations.serials {
        let _ = writeln!(
            svg,
            "<rect x=\"{legend_x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>\
             <text x=\"{}\" y=\"{legend_y}\">serial {serial}</text>",
            legend_y - 9.0,
            colour_of(observations, *serial),
            legend_x + 13.0
        );
        legend_x += 70.0;
    }
    let _ = writeln!(
        svg,
        "<text x=\"{legend_x}\" y=\"{legend_y}\">grey: no answer; red: wrong answer; dashed: \
         faults (red), heals (green), changes (black)</text>"
    );
    let step = tick_step(observations.duration_ms);
    let mut tick = 0;
    while tick <= observations.duration_ms {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" fill=\"#666666\">{}s</text>",
            x(tick),
            TOP - 8.0,
            tick / 1_000
        );
        tick += step;
    }
    svg.push_str("</svg>\n");
    svg
}

/// Runs of equal outcome of one node: (start ms, end ms, colour, label).
fn bars(observations: &Observations, node: usize) -> Vec<(u64, u64, String, String)> {
    let mut bars: Vec<(u64, u64, String, String)> = Vec::new();
    let probes = observations.probes.iter().filter(|p| p.node == node);
    for probe in probes {
        let (colour, label) = match &probe.outcome {
            Outcome::Answered {
                correct: true,
                serial: Some(serial),
                ..
            } => (colour_of(observations, *serial), format!("serial {serial}")),
            Outcome::Answered { rcode, .. } => (
                "#d62728".to_string(),
                format!("wrong answer, rcode {rcode}"),
            ),
            Outcome::Refused => ("#c7c7c7".to_string(), "refused".to_string()),
            Outcome::Timeout => ("#8c8c8c".to_string(), "no answer".to_string()),
        };
        match bars.last_mut() {
            Some(last) if last.2 == colour && last.3 == label => last.1 = probe.at_ms,
            Some(last) => {
                last.1 = probe.at_ms;
                bars.push((probe.at_ms, probe.at_ms, colour, label));
            }
            None => bars.push((probe.at_ms, probe.at_ms, colour, label)),
        }
    }
    bars
}

/// Milliseconds between two time labels: about ten labels, whole seconds.
fn tick_step(duration_ms: u64) -> u64 {
    (duration_ms / 10).div_ceil(1_000).max(1) * 1_000
}

fn colour_of(observations: &Observations, serial: u32) -> String {
    let index = observations
        .serials
        .iter()
        .position(|(_, s)| *s == serial)
        .unwrap_or(0);
    PALETTE[index % PALETTE.len()].to_string()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
