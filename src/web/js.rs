//! Plain JS objects and properties through `Reflect`.
//!
//! The adapters build every dictionary (`getUserMedia` constraints, the peer connection's
//! configuration, descriptions, candidates, channel and transceiver options) as a plain object
//! and read event fields and states as properties. That costs one import for all of them,
//! where web-sys would add a generated setter or getter (and a string table per enum) to the
//! JS glue for each field.

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

/// The arguments of a dynamic call as an array.
fn args_of(args: &[&JsValue]) -> js_sys::Array {
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
        .apply(o, &args_of(args))
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
    js_sys::Reflect::construct::<fn() -> JsValue>(c.unchecked_ref(), &args_of(args))
}
