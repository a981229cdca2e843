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

/// Tukey box of a sample: quartiles (linear interpolation, numpy's default), whiskers at
/// the most extreme values within 1.5 IQR of the box, and the values beyond them.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxStats {
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub low_whisker: f64,
    pub high_whisker: f64,
    pub outliers: Vec<f64>,
}

impl BoxStats {
    /// `None` for an empty sample.
    pub fn of(values: &[f64]) -> Option<BoxStats> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let quantile = |q: f64| {
            let at = q * (v.len() - 1) as f64;
            let (i, f) = (at.floor() as usize, at.fract());
            v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
        };
        let (q1, median, q3) = (quantile(0.25), quantile(0.5), quantile(0.75));
        let (lo_fence, hi_fence) = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1));
        let inside = || {
            v.iter()
                .copied()
                .filter(|x| (lo_fence..=hi_fence).contains(x))
        };
        Some(BoxStats {
            q1,
            median,
            q3,
            low_whisker: inside().fold(f64::INFINITY, f64::min),
            high_whisker: inside().fold(f64::NEG_INFINITY, f64::max),
            outliers: v
                .iter()
                .copied()
                .filter(|x| !(lo_fence..=hi_fence).contains(x))
                .collect(),
        })
    }
}

/// Box plots of per-run values, one box per group: box = quartiles, bar = median,
/// whiskers = most extreme runs within 1.5 IQR, dots = runs beyond.
pub fn box_chart(
    title: &str,
    y_desc: &str,
    groups: &[(String, Vec<f64>)],
) -> Result<Png, EvalError> {
    let what = "box plot";
    draw_png(480, 420, what, |root| {
        let err = plot_error(what);
        let all = groups.iter().flat_map(|g| g.1.iter().copied());
        let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.1).max(0.02);
        let names: Vec<&str> = groups.iter().map(|g| g.0.as_str()).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(35)
            .y_label_area_size(55)
            .build_cartesian_2d(-0.5f64..(groups.len() as f64 - 0.5), (lo - pad)..(hi + pad))
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .y_desc(y_desc)
            .x_labels(groups.len().max(1))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    names
                        .get(i as usize)
                        .map_or(String::new(), |n| n.to_string())
                } else {
                    String::new()
                }
            })
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .disable_x_mesh()
            .draw()
            .map_err(|e| err(&e))?;
        for (i, (_, values)) in groups.iter().enumerate() {
            let Some(b) = BoxStats::of(values) else {
                continue;
            };
            let colour = series_colour(i);
            let style = colour.stroke_width(2);
            let x = i as f64;
            let (half, cap) = (0.2, 0.1);
            let mut shapes: Vec<DynElement<'static, _, (f64, f64)>> = vec![
                Rectangle::new([(x - half, b.q1), (x + half, b.q3)], style).into_dyn(),
                PathElement::new(
                    [(x - half, b.median), (x + half, b.median)],
                    colour.stroke_width(3),
                )
                .into_dyn(),
            ];
            for (from, to) in [(b.q1, b.low_whisker), (b.q3, b.high_whisker)] {
                shapes.push(PathElement::new([(x, from), (x, to)], style).into_dyn());
                shapes.push(PathElement::new([(x - cap, to), (x + cap, to)], style).into_dyn());
            }
            for &o in &b.outliers {
                shapes.push(Circle::new((x, o), 3, colour.filled()).into_dyn());
            }
            chart.draw_series(shapes).map_err(|e| err(&e))?;
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
