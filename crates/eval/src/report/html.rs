//! Building blocks of the self-contained HTML page: escaping, number formatting, tables
//! and images embedded as base64 data URIs.

use base64::Engine;

use super::png::Png;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Three decimals, as the study reports.
pub fn fixed3(v: f64) -> String {
    format!("{v:.3}")
}

/// "mean ± sd" with three decimals.
pub fn mean_sd(mean: f64, sd: f64) -> String {
    format!("{mean:.3} ± {sd:.3}")
}

/// A p-value readable at both ends of its range.
pub fn pvalue(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

/// An HTML table from a header row and body rows (cells already escaped/formatted).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut html = String::from("<table><thead><tr>");
    for h in header {
        html.push_str(&format!("<th>{}</th>", escape(h)));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            html.push_str(&format!("<td>{cell}</td>"));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// An `<img>` whose source is the PNG itself, so the page needs no other file.
pub fn img(png: &Png, alt: &str) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(&png.bytes);
    format!(
        "<img src=\"data:image/png;base64,{data}\" width=\"{}\" height=\"{}\" alt=\"{}\">",
        png.width,
        png.height,
        escape(alt)
    )
}

pub const STYLE: &str = "body{font-family:sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0 1em}th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}\
th{background:#eee}td:first-child,th:first-child{text-align:left}\
.row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}\
figure{margin:0;font-size:12px}figcaption{max-width:300px;word-break:break-all}\
.note{color:#555;font-size:14px}h2{border-bottom:1px solid #ccc;margin-top:1.6em}";
