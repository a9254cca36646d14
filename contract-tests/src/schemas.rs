//! The event schema registry's compatibility rule, as code: a new version may add optional
//! fields and relax limits, never add a required field, remove a field or change a type.

use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn registry_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/event-schemas")
}

/// `(type, version, schema)` for every file of the registry.
pub fn load_registry() -> Vec<(String, u32, Value)> {
    let mut out = vec![];
    for entry in std::fs::read_dir(registry_dir()).expect("registry") {
        let entry = entry.expect("entry");
        if !entry.path().is_dir() {
            continue;
        }
        let ty = entry.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(entry.path()).expect("type dir") {
            let f = f.expect("file");
            let name = f.file_name().to_string_lossy().into_owned();
            let Some(v) = name
                .strip_prefix('v')
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| n.parse().ok())
            else {
                panic!("{ty}/{name}: schema files are named v<N>.json");
            };
            let schema: Value =
                serde_json::from_str(&std::fs::read_to_string(f.path()).expect("read"))
                    .expect("JSON");
            out.push((ty.clone(), v, schema));
        }
    }
    out.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    out
}

fn required(s: &Value) -> Vec<&str> {
    s["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// What `new` breaks for consumers of `old`, path by path.
pub fn breaking_changes(old: &Value, new: &Value) -> Vec<String> {
    let mut out = vec![];
    walk("", old, new, &mut out);
    out
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    if old.get("type") != new.get("type") && old.get("type").is_some() {
        out.push(format!(
            "{path}: type changed from {} to {}",
            old["type"], new["type"]
        ));
    }
    // (keyword, whether it is an upper limit)
    for (k, upper) in [
        ("maxLength", true),
        ("maximum", true),
        ("maxItems", true),
        ("minLength", false),
        ("minimum", false),
        ("minItems", false),
    ] {
        match (old[k].as_i64(), new[k].as_i64()) {
            (Some(o), Some(n)) if (upper && n < o) || (!upper && n > o) => {
                out.push(format!("{path}: {k} tightened from {o} to {n}"))
            }
            (None, Some(n)) => out.push(format!("{path}: new limit {k} = {n}")),
            _ => {}
        }
    }
    if let (Some(o), Some(n)) = (old["enum"].as_array(), new["enum"].as_array()) {
        for v in o {
            if !n.contains(v) {
                out.push(format!("{path}: enum value {v} removed"));
            }
        }
    }
    if old.get("const").is_some() && old.get("const") != new.get("const") {
        out.push(format!("{path}: const changed"));
    }
    let old_req = required(old);
    for r in required(new) {
        if !old_req.contains(&r) {
            out.push(format!("{path}: `{r}` became required"));
        }
    }
    if let Some(props) = old["properties"].as_object() {
        for (name, o) in props {
            match new["properties"].get(name) {
                None => out.push(format!(
                    "{path}.{name}: removed (deprecate it first, drop it after two releases)"
                )),
                Some(n) => walk(&format!("{path}.{name}"), o, n, out),
            }
        }
    }
    if old["items"].is_object() {
        walk(&format!("{path}[]"), &old["items"], &new["items"], out);
    }
}
