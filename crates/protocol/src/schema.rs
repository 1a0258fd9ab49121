//! JSON Schema generation (feature `schema`).
//!
//! [`schema`] returns one JSON document: draft-07 `definitions` for every type of the wire,
//! the frame shapes under `oneOf`-free named definitions, plus the non-standard keys
//! `x-ovsp-methods`, `x-ovsp-events`, `x-ovsp-codes` and `x-ovsp-close-codes`, which map each
//! method to its params/result schemas and permission, each event to its data schema,
//! durability and scope, and each code to its name. The project's `docs/ovsp.schema.json` is
//! this document, pretty-printed; a test keeps it in sync.

use crate::prelude::*;
use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use crate::codes::{CloseCode, Code};
use crate::events::{visit_events, Durability, EventInfo, EventVisitor};
use crate::methods::{
    method_info, visit_methods, Method, MethodVisitor, NotificationMethod, WireType,
};

/// A client request frame.
#[allow(dead_code)]
#[derive(JsonSchema)]
struct RequestFrame {
    /// Always `"2.0"`.
    jsonrpc: String,
    /// Client-chosen id, unique within the session.
    id: String,
    /// Method name.
    method: String,
    /// Params object.
    params: Map<String, Value>,
}

/// A client notification frame.
#[allow(dead_code)]
#[derive(JsonSchema)]
struct NotificationFrame {
    /// Always `"2.0"`.
    jsonrpc: String,
    /// `session.ack`, `ice.candidate` or `stats.report`.
    method: String,
    /// Params object.
    params: Map<String, Value>,
}

/// A success response frame. The result object also carries `seq`, the highest durable seq
/// sent to the session before this response.
#[allow(dead_code)]
#[derive(JsonSchema)]
struct ResultFrame {
    /// Always `"2.0"`.
    jsonrpc: String,
    /// The request id.
    id: String,
    /// The result object (with `seq`).
    result: Map<String, Value>,
}

/// An error response frame (`id` is null when the error is not tied to a request).
#[allow(dead_code)]
#[derive(JsonSchema)]
struct ErrorFrame {
    /// Always `"2.0"`.
    jsonrpc: String,
    /// The request id, or null.
    id: Option<String>,
    /// The error object.
    error: crate::envelope::RpcError,
}

/// The params of an event frame.
#[allow(dead_code)]
#[derive(JsonSchema)]
struct EventParams {
    /// Event type.
    #[serde(rename = "type")]
    event_type: String,
    /// Server time (ms since the Unix epoch).
    ts: u64,
    /// Per-session sequence number (durable events only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    /// Event data.
    data: Map<String, Value>,
}

/// An event frame: a server notification with method `event`.
#[allow(dead_code)]
#[derive(JsonSchema)]
struct EventFrame {
    /// Always `"2.0"`.
    jsonrpc: String,
    /// Always `"event"`.
    method: String,
    /// The event.
    params: EventParams,
}

fn sub<T: JsonSchema>(gen: &mut SchemaGenerator) -> Value {
    serde_json::to_value(gen.subschema_for::<T>()).unwrap_or(Value::Null)
}

struct Collect<'a> {
    gen: &'a mut SchemaGenerator,
    methods: Map<String, Value>,
    events: Map<String, Value>,
}

impl MethodVisitor for Collect<'_> {
    fn visit<M: Method>(&mut self) {
        let params = sub::<M::Params>(self.gen);
        let result = sub::<M::Result>(self.gen);
        let permission = method_info(M::NAME)
            .map(|i| i.describe_permission())
            .unwrap_or_default();
        self.methods.insert(
            M::NAME.into(),
            json!({ "kind": "request", "params": params, "result": result, "permission": permission }),
        );
    }

    fn visit_notification<N: NotificationMethod>(&mut self) {
        let params = sub::<N>(self.gen);
        self.methods.insert(
            N::NAME.into(),
            json!({ "kind": "notification", "params": params }),
        );
    }
}

impl EventVisitor for Collect<'_> {
    fn visit<T: WireType>(&mut self, info: &'static EventInfo) {
        let data = sub::<T>(self.gen);
        let durability = match info.durability {
            Durability::Durable => "durable",
            Durability::Volatile => "volatile",
        };
        self.events.insert(
            info.name.into(),
            json!({ "data": data, "durability": durability, "scope": info.scope.describe() }),
        );
    }
}

/// Generate the JSON Schema document of OVSP v1.
pub fn schema() -> Value {
    let mut gen = SchemaSettings::draft07().into_generator();
    let frames = json!({
        "request": sub::<RequestFrame>(&mut gen),
        "notification": sub::<NotificationFrame>(&mut gen),
        "result": sub::<ResultFrame>(&mut gen),
        "error": sub::<ErrorFrame>(&mut gen),
        "event": sub::<EventFrame>(&mut gen),
    });
    sub::<crate::token::Claims>(&mut gen);
    sub::<crate::token::Header>(&mut gen);
    let mut c = Collect {
        gen: &mut gen,
        methods: Map::new(),
        events: Map::new(),
    };
    visit_methods(&mut c);
    visit_events(&mut c);
    let (methods, events) = (c.methods, c.events);

    let codes: Map<String, Value> = Code::ALL
        .iter()
        .map(|c| {
            (
                c.0.to_string(),
                json!({ "name": c.name(), "message": c.message() }),
            )
        })
        .collect();
    let close: Map<String, Value> = CloseCode::ALL
        .iter()
        .map(|c| {
            (
                c.0.to_string(),
                json!({ "meaning": c.meaning(), "action": format!("{:?}", c.action()) }),
            )
        })
        .collect();
    let definitions = serde_json::to_value(gen.definitions()).unwrap_or(Value::Null);
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "OVSP v1",
        "description": "Open Video Signaling Protocol v1 (subprotocol ovsp.v1). Generated from the ovsp crate; do not edit.",
        "x-ovsp-version": { "major": crate::PROTOCOL_MAJOR, "minor": crate::PROTOCOL_MINOR },
        "x-ovsp-frames": frames,
        "x-ovsp-methods": methods,
        "x-ovsp-events": events,
        "x-ovsp-codes": codes,
        "x-ovsp-close-codes": close,
        "definitions": definitions,
    })
}

/// Sort object keys recursively, so the output does not depend on whether some other crate
/// in the build enables `serde_json/preserve_order`.
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: alloc::collections::BTreeMap<String, Value> =
                m.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// The schema document as pretty-printed JSON with sorted keys and a trailing newline (the
/// exact contents of `docs/ovsp.schema.json`).
pub fn schema_string() -> String {
    let mut s = serde_json::to_string_pretty(&canonical(schema())).unwrap_or_default();
    s.push('\n');
    s
}
