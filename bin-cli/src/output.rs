//! Human tables or JSON, one way for every command.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde_json::Value;

/// Prints `rows` as a table with `headers`, or the JSON value when `json`.
pub fn show(json: bool, value: &Value, headers: &[&str], rows: Vec<Vec<String>>) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
        return;
    }
    if rows.is_empty() {
        println!("(nothing)");
        return;
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_header(headers.to_vec());
    for r in rows {
        t.add_row(r);
    }
    println!("{t}");
}

/// Prints one record as `key: value` lines, or JSON.
pub fn record(json: bool, value: &Value) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
        return;
    }
    if let Value::Object(m) = value {
        let width = m.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        for (k, v) in m {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => "-".into(),
                other => other.to_string(),
            };
            println!("{k:>width$}  {v}");
        }
    } else {
        println!("{value}");
    }
}
