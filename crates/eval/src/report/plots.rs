//! The report's charts: mean ROC with its band, box plots of per-run figures, and the
//! embedding scatters.

use plotters::coord::CoordTranslate;
use plotters::prelude::*;

use super::font::FAMILY;
use super::png::{draw_png, plot_error, Png};
use crate::error::EvalError;
use crate::metrics::MeanRoc;

/// Colour of each series (configurations A, B, C, then more).
pub fn series_colour(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
    ];
    PALETTE[i % PALETTE.len()]
}

const TYPICAL: RGBColor = RGBColor(31, 90, 220);
const EXOTIC: RGBColor = RGBColor(220, 30, 30);

/// Draws the legend of the labelled series in a framed box.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    what: &str,
) -> Result<(), EvalError> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_error(what)(&e))
}

/// One curve of the ROC chart.
#[derive(Debug)]
pub struct RocSeries<'a> {
    pub label: String,
    pub roc: &'a MeanRoc,
}

/// Mean ROC curves with a +-1 standard deviation band each, and the chance diagonal.
pub fn roc_chart(title: &str, series: &[RocSeries<'_>]) -> Result<Png, EvalError> {
    let what = "mean ROC";
    draw_png(640, 560, what, |root| {
        let err = plot_error(what);
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("false positive rate (typical flagged)")
            .y_desc("true positive rate (exotic found)")
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .draw()
            .map_err(|e| err(&e))?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                BLACK.mix(0.4).stroke_width(1),
            ))
            .map_err(|e| err(&e))?;
        for (i, s) in series.iter().enumerate() {
            let colour = series_colour(i);
            let upper = s
                .roc
                .fpr
                .iter()
                .zip(s.roc.mean_tpr.iter().zip(&s.roc.std_tpr));
            let mut band: Vec<(f64, f64)> = upper
                .clone()
                .map(|(&x, (&m, &sd))| (x, (m + sd).min(1.0)))
                .collect();
            band.extend(upper.rev().map(|(&x, (&m, &sd))| (x, (m - sd).max(0.0))));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    colour.mix(0.18).filled(),
                )))
                .map_err(|e| err(&e))?;
            let line: Vec<(f64, f64)> = s
                .roc
                .fpr
                .iter()
                .copied()
                .zip(s.roc.mean_tpr.iter().copied())
                .collect();
            chart
                .draw_series(LineSeries::new(line, colour.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(s.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight, what)
    })
}

/// Box plots (median, quartiles, 1.5 IQR whiskers) of per-run values, one box per group.
pub fn box_chart(
    title: &str,
    y_desc: &str,
    groups: &[(String, Vec<f64>)],
) -> Result<Png, EvalError> {
    let what = "box plot";
    draw_png(480, 420, what, |root| {
        let err = plot_error(what);
        let names: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
        let all = groups.iter().flat_map(|g| g.1.iter().copied());
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.1).max(0.02);
        let y_range = ((lo - pad).max(0.0) as f32)..((hi + pad).min(1.05) as f32);
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(names[..].into_segmented(), y_range)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .y_desc(y_desc)
            .x_label_formatter(&|v| match v {
                SegmentValue::Exact(name) | SegmentValue::CenterOf(name) => name.to_string(),
                SegmentValue::Last => String::new(),
            })
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .disable_x_mesh()
            .draw()
            .map_err(|e| err(&e))?;
        for (i, (name, values)) in groups.iter().enumerate() {
            if values.is_empty() {
                continue;
            }
            let quartiles = Quartiles::new(values);
            chart
                .draw_series(std::iter::once(
                    Boxplot::new_vertical(SegmentValue::CenterOf(name), &quartiles)
                        .width(40)
                        .style(series_colour(i).stroke_width(2)),
                ))
                .map_err(|e| err(&e))?;
        }
        Ok(())
    })
}

/// Scatter of an embedding: typical sources blue, exotic red (drawn on top).
pub fn embedding_scatter(
    title: &str,
    points: &[[f64; 2]],
    exotic: &[bool],
) -> Result<Png, EvalError> {
    let what = "embedding scatter";
    draw_png(520, 500, what, |root| {
        let err = plot_error(what);
        let range = |d: usize| {
            let (lo, hi) = points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
                    (l.min(p[d]), h.max(p[d]))
                });
            let pad = ((hi - lo) * 0.05).max(1e-9);
            (lo - pad)..(hi + pad)
        };
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(45)
            .build_cartesian_2d(range(0), range(1))
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .label_style((FAMILY, 12))
            .disable_mesh()
            .draw()
            .map_err(|e| err(&e))?;
        for (class, colour, name) in [(false, TYPICAL, "typical"), (true, EXOTIC, "exotic")] {
            let dots = points
                .iter()
                .zip(exotic)
                .filter(|(_, &e)| e == class)
                .map(|(p, _)| Circle::new((p[0], p[1]), 3, colour.mix(0.75).filled()));
            chart
                .draw_series(dots)
                .map_err(|e| err(&e))?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, what)
    })
}
