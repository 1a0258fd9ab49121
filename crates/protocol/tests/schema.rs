//! The checked-in JSON Schema (`docs/ovsp.schema.json`) must equal the generated one.
//! Regenerate with `OVSP_BLESS=1 cargo test -p ovsp --test schema`.
#![cfg(feature = "schema")]

mod common;

#[test]
fn checked_in_schema_is_fresh() {
    let path = common::docs_dir().join("ovsp.schema.json");
    let want = ovsp::schema::schema_string();
    if std::env::var_os("OVSP_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write schema");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale; regenerate with `OVSP_BLESS=1 cargo test -p ovsp --test schema`",
        path.display()
    );
}

#[test]
fn schema_covers_every_method_and_event() {
    let s = ovsp::schema::schema();
    for m in ovsp::METHODS {
        assert!(s["x-ovsp-methods"].get(m.name).is_some(), "{}", m.name);
    }
    for e in ovsp::EVENTS {
        let ev = &s["x-ovsp-events"][e.name];
        assert!(ev.get("data").is_some(), "{}", e.name);
    }
    for c in ovsp::Code::ALL {
        assert_eq!(s["x-ovsp-codes"][c.0.to_string()]["name"], c.name());
    }
    // Every $ref resolves to a definition.
    let text = s.to_string();
    let defs = s["definitions"].as_object().expect("definitions");
    for part in text.split("\"$ref\":\"#/definitions/").skip(1) {
        let name = part.split('"').next().unwrap_or_default();
        assert!(defs.contains_key(name), "dangling $ref {name}");
    }
}
