//! Plain JS objects and properties through `Reflect`.
//!
//! The adapters build every dictionary (`getUserMedia` constraints, the peer connection's
//! configuration, descriptions, candidates, channel and transceiver options) as a plain object
//! and read event fields and states as properties. That costs one import for all of them,
//! where web-sys would add a generated setter or getter (and a string table per enum) to the
//! JS glue for each field.

use crate::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// A new, empty object.
pub fn object() -> js_sys::Object {
    js_sys::Object::new()
}

/// `o[key] = v`; ignored when `o` is not an object.
pub fn set(o: &JsValue, key: &str, v: &JsValue) {
    if o.is_object() || o.is_function() {
        let _ = js_sys::Reflect::set(o, &JsValue::from_str(key), v);
    }
}

/// `o[key] = s`.
pub fn set_str(o: &JsValue, key: &str, s: &str) {
    set(o, key, &JsValue::from_str(s));
}

/// `o[key]`; `undefined` when it is missing or `o` is not an object (`null` included: the
/// end-of-candidates event's `candidate`). A non-object is not handed to `Reflect.get`, which
/// would throw, and a caught exception costs more than the check.
pub fn get(o: &JsValue, key: &str) -> JsValue {
    if !(o.is_object() || o.is_function()) {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap_or_default()
}

/// `o[key]` when it is a string.
pub fn get_str(o: &JsValue, key: &str) -> Option<String> {
    get(o, key).as_string()
}

/// `o[key]` when it is a number.
pub fn get_f64(o: &JsValue, key: &str) -> Option<f64> {
    get(o, key).as_f64()
}

/// A JS array of `args` (the arguments of a dynamic call, a list built in one place).
pub fn array(args: &[&JsValue]) -> js_sys::Array {
    let a = js_sys::Array::new();
    for v in args {
        a.push(v);
    }
    a
}

/// `o[method](...args)`: the result, or what the call threw (a `TypeError` when `o` has no
/// such method). Methods only the SDK calls go through here instead of a web-sys import each.
#[inline(never)]
pub fn call(o: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    get(o, method)
        .unchecked_into::<js_sys::Function>()
        .apply(o, &array(args))
}

/// [`call`] of a method that returns a promise; what it throws becomes a rejected promise.
pub fn call_promise(o: &JsValue, method: &str, args: &[&JsValue]) -> js_sys::Promise {
    match call(o, method, args) {
        Ok(p) => p.unchecked_into(),
        Err(e) => js_sys::Promise::reject(&e),
    }
}

/// `globalThis[object][method]()` when it returns a number (`performance.now()`,
/// `Math.random()`).
pub fn global_num(object: &str, method: &str) -> Option<f64> {
    call(&get(&js_sys::global(), object), method, &[])
        .ok()?
        .as_f64()
}

/// `new globalThis[class](...args)`.
pub fn construct(class: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let c = get(&js_sys::global(), class);
    js_sys::Reflect::construct::<fn() -> JsValue>(c.unchecked_ref(), &array(args))
}

/// A JS value as JSON, as `JSON.parse` leaves one (objects, arrays, strings, numbers,
/// booleans, `null`); `None` for anything JSON has no form for (`undefined`, functions,
/// symbols, bigints, NaN and infinities), anywhere inside. Numbers follow
/// [`ovsp::json::Number::from_double`]. Own enumerable string keys only, as `JSON.stringify`
/// reads them; at most `ovsp::json::MAX_DEPTH` nested arrays and objects, as
/// `ovsp::json::parse` reads.
pub fn to_value(v: &JsValue) -> Option<ovsp::json::Value> {
    walk_in(v, 0)
}

/// `v`, inside `depth` arrays and objects.
fn walk_in(v: &JsValue, depth: u32) -> Option<ovsp::json::Value> {
    use ovsp::json::{Map, Number, Value};
    if let Some(s) = v.as_string() {
        return Some(Value::String(s));
    }
    if let Some(f) = v.as_f64() {
        return Number::from_double(f).map(Value::Number);
    }
    if let Some(b) = v.as_bool() {
        return Some(Value::Bool(b));
    }
    if v.is_null() {
        return Some(Value::Null);
    }
    if !v.is_object() || depth >= ovsp::json::MAX_DEPTH {
        return None;
    }
    // One loop for arrays and objects: `Object.keys` of an array that `JSON.parse` made (the
    // only kind this reads) lists its indices, in order.
    let array = js_sys::Array::is_array(v);
    let keys = js_sys::Object::keys(v.unchecked_ref::<js_sys::Object>());
    let mut items = Vec::new();
    let mut m = Map::new();
    for i in 0..keys.length() {
        let k = keys.get(i).as_string()?;
        let item = walk_in(&get(v, &k), depth + 1)?;
        if array {
            items.push(item);
        } else {
            m.insert(k, item);
        }
    }
    Some(if array {
        Value::Array(items)
    } else {
        Value::Object(m)
    })
}

/// A JSON value as a JS value (what `JSON.parse` of its text gives).
pub fn from_value(v: &ovsp::json::Value) -> JsValue {
    use ovsp::json::Value;
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(items) => {
            let a = js_sys::Array::new();
            for i in items {
                a.push(&from_value(i));
            }
            a.into()
        }
        Value::Object(m) => {
            let o = object();
            for (k, i) in m.iter() {
                set(&o, k, &from_value(i));
            }
            o.into()
        }
    }
}

/// `JSON[method](arg)`.
fn json(method: &str, arg: &JsValue) -> Result<JsValue, JsValue> {
    call(&get(&js_sys::global(), "JSON"), method, &[arg])
}

/// JSON text (a JS string: a socket's text frame, a token's payload) as a value, by the
/// browser's `JSON.parse`; `None` when it is no string, is longer than
/// `ovsp::limits::MAX_FRAME_BYTES` UTF-16 units, or is not JSON. A frame's text never crosses
/// into wasm memory.
pub fn parse_json(text: &JsValue) -> Option<ovsp::json::Value> {
    let s: &js_sys::JsString = text.dyn_ref()?;
    if s.length() as usize > ovsp::limits::MAX_FRAME_BYTES {
        return None;
    }
    to_value(&json("parse", text).ok()?)
}

/// What `JSON.stringify` keeps of a JS value, as a value (properties that are `undefined` or
/// functions left out, `toJSON` applied); `None` when it throws (a cycle, a bigint) or keeps
/// nothing.
pub fn plain(v: &JsValue) -> Option<ovsp::json::Value> {
    let text = json("stringify", v).ok()?;
    if !text.is_string() {
        return None;
    }
    to_value(&json("parse", &text).ok()?)
}

/// A value as JSON text (a JS string), by the browser's `JSON.stringify`.
pub fn json_text(v: &ovsp::json::Value) -> JsValue {
    json("stringify", &from_value(v)).unwrap_or_default()
}
