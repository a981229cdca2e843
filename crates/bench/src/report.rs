//! The benchmark's tables, written twice from the same values: Markdown for people,
//! JSON for tools. Every measured figure is a median with its minimum, maximum and
//! number of runs.

use serde_json::{json, Map, Value};
use std::fmt::Write as _;

/// Median, minimum and maximum of repeated runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Summary {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let mut v: Vec<f64> = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => return None,
            _ if n % 2 == 1 => v[n / 2],
            _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Some(Summary {
            median,
            min: v[0],
            max: v[n - 1],
            n,
        })
    }

    /// The same runs in another unit.
    pub fn scaled(self, factor: f64) -> Summary {
        let (a, b) = (self.min * factor, self.max * factor);
        Summary {
            median: self.median * factor,
            min: a.min(b),
            max: a.max(b),
            n: self.n,
        }
    }

    /// (max - min) / median: how much the runs disagreed.
    pub fn spread(&self) -> f64 {
        (self.max - self.min) / self.median.abs().max(f64::MIN_POSITIVE)
    }
}

/// One table cell.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    /// A measured figure: its runs, unit and decimals shown.
    Figure {
        summary: Summary,
        unit: &'static str,
        decimals: usize,
    },
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }

    pub fn figure(summary: Summary, unit: &'static str, decimals: usize) -> Cell {
        Cell::Figure {
            summary,
            unit,
            decimals,
        }
    }

    /// A figure when there were runs, else the reason there is none.
    pub fn figure_or(
        summary: Option<Summary>,
        unit: &'static str,
        decimals: usize,
        otherwise: &str,
    ) -> Cell {
        match summary {
            Some(s) => Cell::figure(s, unit, decimals),
            None => Cell::text(otherwise),
        }
    }

    fn markdown(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Figure {
                summary: s,
                unit,
                decimals: d,
            } => {
                let unit = if unit.is_empty() {
                    String::new()
                } else {
                    format!(" {unit}")
                };
                if s.n == 1 {
                    format!("{:.d$}{unit} (1 run)", s.median)
                } else {
                    format!("**{:.d$}**{unit} ({:.d$}–{:.d$})", s.median, s.min, s.max)
                }
            }
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Text(t) => Value::String(t.clone()),
            Cell::Figure {
                summary: s, unit, ..
            } => json!({
                "median": s.median, "min": s.min, "max": s.max, "runs": s.n, "unit": unit,
            }),
        }
    }
}

/// One section of the report.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    pub command: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    /// What a reader must know to read the figures right.
    pub notes: Vec<String>,
}

impl Table {
    pub fn new(title: &str, command: &str, columns: &[&'static str]) -> Table {
        Table {
            title: title.into(),
            command: command.into(),
            columns: columns.to_vec(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len(), "{}", self.title);
        self.rows.push(row);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// Every figure's relative spread (for the machine-noise line).
    pub fn spreads(&self) -> impl Iterator<Item = f64> + '_ {
        self.rows.iter().flatten().filter_map(|c| match c {
            Cell::Figure { summary, .. } if summary.n > 1 => Some(summary.spread()),
            _ => None,
        })
    }
}

/// The whole report: where it ran, then the tables.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub machine: Vec<(String, String)>,
    pub tables: Vec<Table>,
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::from("# Prospector benchmarks\n\n");
        for (key, value) in &self.machine {
            let _ = writeln!(out, "- **{key}**: {value}");
        }
        out.push_str("\nFigures: **median** (min–max) over the runs; ratios are of medians.\n");
        for table in &self.tables {
            let _ = writeln!(out, "\n## {}\n", table.title);
            if !table.command.is_empty() {
                let _ = writeln!(out, "Measured as: `{}`\n", table.command);
            }
            let _ = writeln!(out, "| {} |", table.columns.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(table.columns.len()));
            for row in &table.rows {
                let cells: Vec<String> = row.iter().map(Cell::markdown).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            if !table.notes.is_empty() {
                out.push('\n');
            }
            for note in &table.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }

    pub fn json(&self) -> Value {
        let machine: Map<String, Value> = self
            .machine
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let tables: Vec<Value> = self
            .tables
            .iter()
            .map(|t| {
                let rows: Vec<Value> = t
                    .rows
                    .iter()
                    .map(|row| {
                        let cells: Map<String, Value> = t
                            .columns
                            .iter()
                            .zip(row)
                            .map(|(c, cell)| (c.to_string(), cell.json()))
                            .collect();
                        Value::Object(cells)
                    })
                    .collect();
                json!({"title": t.title, "command": t.command, "rows": rows, "notes": t.notes})
            })
            .collect();
        json!({"machine": machine, "tables": tables})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_the_median_with_the_extremes() {
        let s = Summary::of(&[3.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (2.5, 1.0, 10.0, 4));
        assert_eq!(Summary::of(&[5.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(Summary::of(&[]), None);
        assert!((s.spread() - 3.6).abs() < 1e-12);
    }

    #[test]
    fn markdown_and_json_carry_the_same_figures() {
        let mut t = Table::new("finder", "prospector find", &["image", "time"]);
        let s = Summary::of(&[1.0, 2.0, 4.0]).unwrap();
        t.push(vec![Cell::text("atca"), Cell::figure(s, "s", 2)]);
        t.push(vec![
            Cell::text("big"),
            Cell::text("did not finish within 60 s"),
        ]);
        let report = Report {
            machine: vec![("cores".into(), "2".into())],
            tables: vec![t],
        };
        let md = report.markdown();
        assert!(md.contains("| atca | **2.00** s (1.00–4.00) |"), "{md}");
        assert!(md.contains("| big | did not finish within 60 s |"), "{md}");
        let json = report.json();
        let row = &json["tables"][0]["rows"][0]["time"];
        assert_eq!(
            (row["median"].as_f64(), row["runs"].as_u64()),
            (Some(2.0), Some(3))
        );
        assert_eq!(
            json["tables"][0]["rows"][1]["time"],
            "did not finish within 60 s"
        );
    }
}
