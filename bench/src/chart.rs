//! The kernel chart: per-kernel time ratios against a baseline engine, one
//! bar per engine, on a logarithmic scale (bars grow up from 1× when slower
//! than the baseline and down when faster).

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use std::path::Path;

/// One engine's ratios, one per kernel (`None` where it has no result).
pub struct Series {
    /// The engine's name, for the legend.
    pub name: String,
    /// Time ratio against the baseline, per kernel.
    pub ratios: Vec<Option<f64>>,
}

/// Distinct, colour-blind-friendly colours (Okabe–Ito), then greys.
const COLOURS: [RGBColor; 9] = [
    RGBColor(0, 0, 0),
    RGBColor(213, 94, 0),
    RGBColor(230, 159, 0),
    RGBColor(0, 114, 178),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(240, 228, 66),
    RGBColor(128, 128, 128),
];

/// Draws the chart to `path` as SVG.
pub fn kernel_ratios(
    path: &Path,
    title: &str,
    baseline: &str,
    kernels: &[&str],
    series: &[Series],
) -> Result<()> {
    let values = series
        .iter()
        .flat_map(|s| s.ratios.iter().flatten().copied());
    let (lo, hi) = values.fold((1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let lo = nice_below(lo.min(0.5) * 0.9) * 0.999;
    let hi = nice_above(hi.max(2.0) * 1.1) * 1.001;

    const LEGEND: u32 = 200;
    let width = 110 + 95 * kernels.len() as u32 + LEGEND;
    let root = SVGBackend::new(path, (width.max(900), 560)).into_drawing_area();
    let draw = |e| anyhow!("drawing the chart: {e}");
    root.fill(&WHITE).map_err(draw)?;
    let root = root.titled(title, ("sans-serif", 22)).map_err(draw)?;
    let (plot, legend) = root.split_horizontally(root.dim_in_pixel().0 - LEGEND);
    let n = kernels.len();
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo..hi).log_scale())
        .map_err(draw)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                kernels[i as usize].to_string()
            } else {
                String::new()
            }
        })
        .x_label_style(("sans-serif", 13))
        .y_desc(format!(
            "time relative to {baseline} (log scale; lower is faster)"
        ))
        .y_label_formatter(&|y| format!("{}×", trim(*y)))
        .draw()
        .map_err(draw)?;

    let slot = 0.84 / series.len().max(1) as f64;
    for (j, s) in series.iter().enumerate() {
        let colour = COLOURS[j % COLOURS.len()];
        let bars = s.ratios.iter().enumerate().filter_map(|(i, r)| {
            let r = (*r)?;
            let x0 = i as f64 - 0.42 + j as f64 * slot;
            Some(Rectangle::new(
                [(x0, 1.0), (x0 + slot * 0.9, r)],
                colour.filled(),
            ))
        });
        chart.draw_series(bars).map_err(draw)?;
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, 1.0), (n as f64 - 0.5, 1.0)],
            BLACK.stroke_width(1),
        )))
        .map_err(draw)?;

    // The legend, in its own panel to the right of the plot.
    for (j, s) in series.iter().enumerate() {
        let colour = COLOURS[j % COLOURS.len()];
        let y = 40 + 24 * j as i32;
        legend
            .draw(&Rectangle::new([(10, y), (24, y + 14)], colour.filled()))
            .map_err(draw)?;
        legend
            .draw(&Text::new(s.name.clone(), (32, y), ("sans-serif", 14)))
            .map_err(draw)?;
    }
    root.present().map_err(draw)?;
    Ok(())
}

/// The largest 1, 2 or 5 times a power of ten at most `v` (`v > 0`).
fn nice_below(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&x| x <= v)
        .unwrap_or(p)
}

/// The smallest 1, 2 or 5 times a power of ten at least `v` (`v > 0`).
fn nice_above(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&x| x >= v)
        .unwrap_or(10.0 * p)
}

/// A tick value without trailing zeros: 0.01, 0.1, 1, 10.
fn trim(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}
