//! `docs/protocol.md` stays true to the code: its generated tables (methods, events, codes,
//! close codes, limits) must equal what this test renders from the crate's tables, and it must
//! name every method, event and code. Regenerate with
//! `OVSP_BLESS=1 cargo test -p ovsp --test docs`.
#![cfg(feature = "schema")]

mod common;

use ovsp::events::Durability;
use ovsp::limits as l;
use ovsp::{CloseCode, Code, MethodKind, EVENTS, METHODS};
use serde_json::Value;

/// Field list of a schema: `a, b?, c` (`?` = optional), or `—` for an empty object.
fn fields(schema: &Value, defs: &Value) -> String {
    let resolved = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => &defs[r.trim_start_matches("#/definitions/")],
        None => schema,
    };
    let Some(props) = resolved.get("properties").and_then(Value::as_object) else {
        return "—".into();
    };
    if props.is_empty() {
        return "—".into();
    }
    let required: Vec<&str> = resolved
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    props
        .keys()
        .map(|k| {
            if required.contains(&k.as_str()) {
                format!("`{k}`")
            } else {
                format!("`{k}?`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn type_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .map(|r| r.trim_start_matches("#/definitions/"))
}

fn methods_table() -> String {
    let s = ovsp::schema::schema();
    let defs = &s["definitions"];
    let mut out = String::from("| Method | Params | Result | Permission |\n|---|---|---|---|\n");
    for m in METHODS {
        let entry = &s["x-ovsp-methods"][m.name];
        let params = fields(&entry["params"], defs);
        let (name, result, perm) = match m.kind {
            MethodKind::Request => {
                let result = match type_name(&entry["result"]) {
                    Some("Snapshot") => "snapshot (§ Data model)".to_string(),
                    _ => fields(&entry["result"], defs),
                };
                (format!("`{}`", m.name), result, m.describe_permission())
            }
            MethodKind::Notification => (
                format!("`{}` (notification)", m.name),
                "no response".to_string(),
                "none".to_string(),
            ),
        };
        out.push_str(&format!("| {name} | {params} | {result} | {perm} |\n"));
    }
    out
}

fn events_table() -> String {
    let s = ovsp::schema::schema();
    let defs = &s["definitions"];
    let mut out = String::from("| Event | Durability | Scope | Data |\n|---|---|---|---|\n");
    for e in EVENTS {
        let d = match e.durability {
            Durability::Durable => "durable",
            Durability::Volatile => "volatile",
        };
        let data = fields(&s["x-ovsp-events"][e.name]["data"], defs);
        out.push_str(&format!(
            "| `{}` | {d} | {} | {data} |\n",
            e.name,
            e.scope.describe()
        ));
    }
    out
}

fn codes_table() -> String {
    let mut out = String::from("| Code | Name | Meaning |\n|---|---|---|\n");
    for c in Code::ALL {
        out.push_str(&format!("| {} | `{}` | {} |\n", c.0, c.name(), c.message()));
    }
    out
}

fn close_table() -> String {
    let mut out = String::from("| Close code | Meaning | Client action |\n|---|---|---|\n");
    for c in CloseCode::ALL {
        out.push_str(&format!(
            "| {} | {} | {:?} |\n",
            c.0,
            c.meaning(),
            c.action()
        ));
    }
    out.push_str("| any other (e.g. 1006) | network loss | Resume |\n");
    out
}

fn limits_table() -> String {
    let rows: &[(&str, String, &str)] = &[
        (
            "MAX_FRAME_BYTES",
            l::MAX_FRAME_BYTES.to_string(),
            "largest WebSocket frame, SDP included (bytes)",
        ),
        (
            "MAX_META_BYTES",
            l::MAX_META_BYTES.to_string(),
            "largest room or member meta, serialised (bytes)",
        ),
        (
            "MAX_PAYLOAD_BYTES",
            l::MAX_PAYLOAD_BYTES.to_string(),
            "largest `message.send` payload and data-frame payload (bytes)",
        ),
        (
            "MAX_ID_LEN",
            l::MAX_ID_LEN.to_string(),
            "longest id (characters)",
        ),
        (
            "FIRST_FRAME_DEADLINE_MS",
            l::FIRST_FRAME_DEADLINE_MS.to_string(),
            "server waits this long for `session.connect` (then 4008)",
        ),
        (
            "CONNECT_TIMEOUT_MS",
            l::CONNECT_TIMEOUT_MS.to_string(),
            "client waits this long for the `session.connect` response",
        ),
        (
            "PING_INTERVAL_MS",
            l::PING_INTERVAL_MS.to_string(),
            "client `ping` interval (`timers.ping_interval_ms`)",
        ),
        (
            "PING_TIMEOUT_MS",
            l::PING_TIMEOUT_MS.to_string(),
            "no inbound frame for this long = dead socket (`timers.ping_timeout_ms`)",
        ),
        (
            "REQUEST_TIMEOUT_MS",
            l::REQUEST_TIMEOUT_MS.to_string(),
            "server answers every request within this (`timers.request_timeout_ms`)",
        ),
        (
            "RESUME_WINDOW_MS",
            l::RESUME_WINDOW_MS.to_string(),
            "server keeps a session this long after its socket is lost (`timers.resume_window_ms`)",
        ),
        (
            "REPLAY_BUFFER_EVENTS",
            l::REPLAY_BUFFER_EVENTS.to_string(),
            "minimum replay buffer (events) ...",
        ),
        (
            "REPLAY_BUFFER_BYTES",
            l::REPLAY_BUFFER_BYTES.to_string(),
            "... or bytes, whichever holds more",
        ),
        (
            "RESPONSE_CACHE",
            l::RESPONSE_CACHE.to_string(),
            "minimum cached responses (or all within the resume window, if more)",
        ),
        (
            "ACK_EVERY_MS",
            l::ACK_EVERY_MS.to_string(),
            "client acks at least this often while durable events arrive ...",
        ),
        (
            "ACK_EVERY_EVENTS",
            l::ACK_EVERY_EVENTS.to_string(),
            "... or after this many events",
        ),
        (
            "RATE_SUSTAINED",
            l::RATE_SUSTAINED.to_string(),
            "requests per second per session, sustained (54007 beyond)",
        ),
        (
            "RATE_BURST",
            l::RATE_BURST.to_string(),
            "request burst per session",
        ),
        (
            "SPEAKERS_MAX_PER_SEC",
            l::SPEAKERS_MAX_PER_SEC.to_string(),
            "most `room.speakers` events per second",
        ),
        (
            "AUDIENCE_COUNT_MAX_PER_SEC",
            l::AUDIENCE_COUNT_MAX_PER_SEC.to_string(),
            "most `room.audience_count` events per second",
        ),
        (
            "FULL_REJOIN_ATTEMPTS",
            l::FULL_REJOIN_ATTEMPTS.to_string(),
            "full rejoins before the client gives up",
        ),
        (
            "RECONNECT_BACKOFF_MS",
            format!("{:?}", l::RECONNECT_BACKOFF_MS),
            "reconnect delays, then every `RECONNECT_BACKOFF_MAX_MS`",
        ),
        (
            "RECONNECT_BACKOFF_MAX_MS",
            l::RECONNECT_BACKOFF_MAX_MS.to_string(),
            "reconnect delay ceiling",
        ),
        (
            "RECONNECT_JITTER_PERCENT",
            l::RECONNECT_JITTER_PERCENT.to_string(),
            "± jitter on each reconnect delay (%)",
        ),
        (
            "ICE_DISCONNECTED_RESTART_MS",
            l::ICE_DISCONNECTED_RESTART_MS.to_string(),
            "pub PC ICE `disconnected` this long → ICE restart",
        ),
        (
            "ICE_FAILED_REJOIN_MS",
            l::ICE_FAILED_REJOIN_MS.to_string(),
            "ICE still failed this long (socket up) → full rejoin",
        ),
        (
            "TOKEN_CLOCK_SKEW_S",
            l::TOKEN_CLOCK_SKEW_S.to_string(),
            "clock skew allowed on `exp`/`nbf` (s)",
        ),
        (
            "TOKEN_MAX_LIFETIME_S",
            l::TOKEN_MAX_LIFETIME_S.to_string(),
            "longest accepted token lifetime by default (s)",
        ),
    ];
    let mut out = String::from("| Constant (`ovsp::limits`) | Value | Meaning |\n|---|---|---|\n");
    for (name, value, meaning) in rows {
        out.push_str(&format!("| `{name}` | {value} | {meaning} |\n"));
    }
    out
}

fn sections() -> Vec<(&'static str, String)> {
    vec![
        ("methods", methods_table()),
        ("events", events_table()),
        ("codes", codes_table()),
        ("close-codes", close_table()),
        ("limits", limits_table()),
    ]
}

/// Replace the body between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`.
fn splice(doc: &str, name: &str, body: &str) -> Option<String> {
    let open = format!("<!-- generated:{name} -->\n");
    let close = format!("<!-- /generated:{name} -->");
    let start = doc.find(&open)? + open.len();
    let end = start + doc[start..].find(&close)?;
    Some(format!("{}{}{}", &doc[..start], body, &doc[end..]))
}

#[test]
fn generated_tables_are_fresh() {
    let path = common::docs_dir().join("protocol.md");
    let doc = std::fs::read_to_string(&path).expect("docs/protocol.md");
    let mut new = doc.clone();
    for (name, body) in sections() {
        new = splice(&new, name, &body)
            .unwrap_or_else(|| panic!("docs/protocol.md lacks the generated:{name} markers"));
    }
    if std::env::var_os("OVSP_BLESS").is_some() {
        std::fs::write(&path, &new).expect("write");
        return;
    }
    assert!(
        new == doc,
        "docs/protocol.md tables are stale; regenerate with `OVSP_BLESS=1 cargo test -p ovsp --test docs`"
    );
}

#[test]
fn spec_names_everything() {
    let doc = std::fs::read_to_string(common::docs_dir().join("protocol.md")).expect("doc");
    for m in METHODS {
        assert!(doc.contains(&format!("`{}`", m.name)), "method {}", m.name);
    }
    for e in EVENTS {
        assert!(doc.contains(&format!("`{}`", e.name)), "event {}", e.name);
    }
    for c in Code::ALL {
        assert!(doc.contains(c.name()), "code {}", c.0);
        assert!(doc.contains(&c.0.to_string()), "code {}", c.0);
    }
    for p in ovsp::perm::ALL_PERMISSIONS {
        let (head, last) = p.rsplit_once('.').unwrap_or(("", p));
        assert!(
            doc.contains(p) || (doc.contains(head) && doc.contains(last)),
            "permission {p}"
        );
    }
    for section in [
        "## Transport and versioning",
        "## Envelope and ordering",
        "## Resume and rejoin",
        "## Media negotiation",
        "## Methods",
        "## Events",
        "## Errors",
        "## Limits and timers",
        "## Implementation status",
        "## Deviations from the design brief",
    ] {
        assert!(doc.contains(section), "section {section}");
    }
}
