//! Browser-side helpers shared by every facade: value conversion, promises that reject with
//! typed errors, the JS listener registry, and the session wiring.

use crate::cell::RefCell;
use crate::prelude::*;
use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;

use convene_core::{Config, CoreError};
use js_sys::{Array, Function, Object, Promise};
use ovsp::json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::error::ApiError;
use super::token;
use crate::web::log::{self, Level};
use crate::web::media::Source;
use crate::web::session::SessionHandle;

/// A result for JavaScript.
pub type JsResult = Result<JsValue, ApiError>;

/// A wire value as a plain JS value (objects, not `Map`s).
#[inline(never)]
pub fn to_js<T: ovsp::json::ToWire + ?Sized>(v: &T) -> JsValue {
    crate::web::js::from_value(&ovsp::json::encode(v))
}

/// A list of one step (one body per step type for every single-step method).
#[inline(never)]
pub fn one<T>(s: T) -> Vec<T> {
    vec![s]
}

/// A JS argument as a JSON value (`undefined` → `null`): what `JSON.stringify` keeps of it.
pub fn from_js(v: &JsValue, name: &str) -> Result<Value, ApiError> {
    if v.is_undefined() || v.is_null() {
        return Ok(Value::Null);
    }
    if v.is_function() {
        return Err(ApiError::invalid(name, "must not be a function"));
    }
    crate::web::js::plain(v).ok_or_else(|| ApiError::invalid(name, "is not a plain value"))
}

/// Several JS arguments as JSON values (trailing `undefined`/`null` ones dropped).
#[inline(never)]
pub fn args(list: &[&JsValue]) -> Result<Vec<Value>, ApiError> {
    let mut out = Vec::with_capacity(list.len());
    for v in list {
        out.push(from_js(v, "params")?);
    }
    while out.last().is_some_and(Value::is_null) {
        out.pop();
    }
    Ok(out)
}

/// A promise of `f`; an error rejects with a real `Error` (`name`, `code`, `message`).
///
/// Every future is boxed into one type first, so the promise machinery is instantiated once
/// for the whole package rather than once per method (a large saving in wasm size).
pub fn promise<F: Future<Output = JsResult> + 'static>(f: F) -> Promise {
    promise_of(Box::pin(f))
}

/// The promise of a boxed future (see [`promise`]).
#[inline(never)]
pub fn promise_of(f: Pin<Box<dyn Future<Output = JsResult>>>) -> Promise {
    wasm_bindgen_futures::future_to_promise(async move { f.await.map_err(|e| e.to_js()) })
}

/// A session operation's future, boxed, with its error as an [`ApiError`].
pub type Op<'a, T> = Pin<Box<dyn Future<Output = Result<T, ApiError>> + 'a>>;

/// Boxes a session operation (`handle.call(..)`, `handle.publish(..)`, ...) for awaiting.
/// The caller's future then holds one pointer and polls through it, so each operation's state
/// machine exists once in the package rather than inlined at every call site.
pub fn op<'a, T: 'a>(f: impl Future<Output = Result<T, CoreError>> + 'a) -> Op<'a, T> {
    Box::pin(async move { f.await.map_err(ApiError::from) })
}

/// A device refusal (`getUserMedia`/`getDisplayMedia`) as a TRACK_INVALID error
/// `"<name>: <message>"`.
#[inline(never)]
pub fn media_err(e: crate::web::error::MediaError) -> ApiError {
    ApiError::new(
        ovsp::codes::Code::TRACK_INVALID,
        super::error::concat(&[e.name(), ": ", e.message()]),
    )
}

/// Acquires a device track for `source` with `constraints`, boxed like [`op`].
#[inline(never)]
pub fn acquire(source: Source, constraints: &JsValue) -> Op<'static, web_sys::MediaStreamTrack> {
    let c = constraints.clone();
    Box::pin(async move { SessionHandle::acquire(source, &c).await.map_err(media_err) })
}

/// Runs `f` on the page's task queue (boxed, like [`promise`], so it is instantiated once).
pub fn spawn<F: Future<Output = ()> + 'static>(f: F) {
    spawn_boxed(Box::pin(f))
}

#[inline(never)]
fn spawn_boxed(f: Pin<Box<dyn Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(f)
}

/// A promise rejected with `e`.
pub fn reject(e: ApiError) -> Promise {
    Promise::reject(&e.to_js())
}

/// Whether `obj` has own or inherited property `key`.
pub fn has(obj: &JsValue, key: &str) -> bool {
    obj.is_object()
        && invoke(
            &get(&js_sys::global(), "Reflect"),
            "has",
            &[obj, &JsValue::from_str(key)],
        )
        .is_ok_and(|v| v == JsValue::TRUE)
}

/// `v instanceof globalThis[class]` (`false` without such a class): one path instead of an
/// import per class.
#[inline(never)]
pub fn is_a(v: &JsValue, class: &str) -> bool {
    let proto = get(&get(&js_sys::global(), class), "prototype");
    invoke(&proto, "isPrototypeOf", &[v]).is_ok_and(|r| r == JsValue::TRUE)
}

/// `obj[method](...args)`, the DOM and built-in methods only the facades call: the web
/// layer's one dynamic call path (`Err` when that is not a function or it throws).
pub use crate::web::js::call as invoke;

/// `obj[key]`, `obj[key]` as a string and `obj[key] = v`: the web layer's property access
/// (`undefined` / nothing when `obj` is not an object or function).
pub use crate::web::js::{get, get_str, set};

/// A new empty object.
pub fn obj() -> JsValue {
    Object::new().into()
}

/// A `MediaStreamTrack` argument, checked.
pub fn track_arg(v: &JsValue, name: &str) -> Result<web_sys::MediaStreamTrack, ApiError> {
    v.clone()
        .dyn_into::<web_sys::MediaStreamTrack>()
        .map_err(|_| ApiError::invalid(name, "must be a MediaStreamTrack"))
}

/// The OVSP endpoint: `host` (a `ws(s)://` URL, or a host name) or the page's origin.
pub fn endpoint(host: Option<String>) -> String {
    let loc = get(&js_sys::global(), "location");
    let secure = get_str(&loc, "protocol").is_some_and(|p| p == "https:");
    let scheme = if secure { "wss" } else { "ws" };
    let h = match host {
        Some(h) if h.starts_with("ws://") || h.starts_with("wss://") => return h,
        Some(h) => h,
        None => get_str(&loc, "host")
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "127.0.0.1:8080".into()),
    };
    super::error::concat(&[scheme, "://", &h, ovsp::ENDPOINT_PATH])
}

/// A session for `token`: the token is checked for shape first (20101 when it is not a JWT).
pub fn session(
    token: &str,
    host: Option<String>,
    edit: impl FnOnce(&mut Config),
) -> Result<SessionHandle, ApiError> {
    token::inspect(token)?;
    let mut cfg = Config::new(endpoint(host), token, 0);
    edit(&mut cfg);
    Ok(SessionHandle::new(cfg))
}

/// One listener: its event, function, whether it is a `once` listener and whether a dispatch
/// in progress has taken it out already (a `once` listener due to be called).
struct Entry {
    id: u32,
    event: String,
    f: Function,
    once: bool,
    retired: bool,
}

/// The JS listeners of one object (`on`/`once`/`off`/`removeAllListeners`).
///
/// An emit calls the listeners registered when it starts, in registration order: a listener
/// added meanwhile waits for the next emit, one removed meanwhile is not called, and a `once`
/// listener is out of the registry as soon as the emit starts (one flat list for all events).
#[derive(Default)]
pub struct Listeners {
    list: RefCell<Vec<Entry>>,
    next_id: Cell<u32>,
    /// The console level of the owning session: a listener that throws is reported at
    /// [`Level::Error`] when this lets it through.
    level: Cell<Level>,
}

impl Listeners {
    /// Reports throwing listeners only when `level` lets errors through (the session's
    /// `logLevel`).
    pub fn set_level(&self, level: Level) {
        self.level.set(level);
    }

    /// The console level set by [`Listeners::set_level`].
    pub fn level(&self) -> Level {
        self.level.get()
    }

    /// `on` or `once`.
    #[inline(never)]
    pub fn add(&self, event: &str, f: &JsValue, once: bool) -> Result<(), ApiError> {
        let f = f
            .clone()
            .dyn_into::<Function>()
            .map_err(|_| ApiError::invalid("fn", "must be a function"))?;
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        self.list.borrow_mut().push(Entry {
            id,
            event: event.to_owned(),
            f,
            once,
            retired: false,
        });
        Ok(())
    }

    /// `on`, `once`, `off` or `removeAllListeners` (`op` 0 to 3): the one entry behind every
    /// facade's listener methods. An event name that is not a string is an invalid argument,
    /// but for `removeAllListeners`, which without one removes every listener.
    #[inline(never)]
    pub fn listen(&self, op: u32, event: &JsValue, f: &JsValue) -> Result<(), ApiError> {
        match (op, event.as_string()) {
            (3, ev) => self.remove_all(ev),
            (2, Some(ev)) => self.off(&ev, f),
            (0 | 1, Some(ev)) => self.add(&ev, f, op == 1)?,
            _ => return Err(ApiError::invalid("event", "must be a string")),
        }
        Ok(())
    }

    /// Removes the registrations `gone` selects (one body for every removal).
    #[inline(never)]
    fn remove(&self, gone: &dyn Fn(&Entry) -> bool) {
        self.list.borrow_mut().retain(|e| !gone(e));
    }

    /// `off(event, fn?)`: every registration of `fn` for `event`, or all of `event`'s.
    #[inline(never)]
    pub fn off(&self, event: &str, f: &JsValue) {
        let f = f.dyn_ref::<Function>();
        self.remove(&|e| e.event == event && f.is_none_or(|f| e.f == *f));
    }

    /// `removeAllListeners(event?)`.
    #[inline(never)]
    pub fn remove_all(&self, event: Option<String>) {
        self.remove(&|e| event.as_deref().is_none_or(|ev| e.event == ev));
    }

    /// Whether anyone listens to `event`.
    #[inline(never)]
    pub fn has(&self, event: &str) -> bool {
        self.list
            .borrow()
            .iter()
            .any(|e| !e.retired && e.event == event)
    }

    /// Calls every listener of `event` with `args`, holding no borrow while a listener runs.
    /// A listener that throws is reported on the console (at the error level, filtered by the
    /// session's `logLevel`) and does not stop the others.
    #[inline(never)]
    pub fn emit(&self, event: &str, args: &[JsValue]) {
        let mut ids = Vec::new();
        for e in self.list.borrow_mut().iter_mut() {
            if !e.retired && e.event == event {
                ids.push(e.id);
                e.retired = e.once;
            }
        }
        if ids.is_empty() {
            return;
        }
        let arr = Array::new();
        for a in args {
            arr.push(a);
        }
        for id in ids {
            let next = {
                let f = self
                    .list
                    .borrow()
                    .iter()
                    .find(|e| e.id == id)
                    .map(|e| (e.f.clone(), e.retired));
                if f.as_ref().is_some_and(|f| f.1) {
                    self.remove(&|e| e.id == id);
                }
                f
            };
            let Some((f, _)) = next else { continue };
            if let Err(e) = f.apply(&JsValue::NULL, &arr) {
                let msg = super::error::concat(&["convene: listener of \"", event, "\" threw"]);
                log::write(self.level.get(), Level::Error, &msg, &e);
            }
        }
    }
}

/// The capture source, wire source and kind of a microphone (`audio`) or camera track.
pub fn media_kind(
    audio: bool,
) -> (
    crate::web::media::Source,
    ovsp::model::MediaSource,
    ovsp::model::TrackKind,
) {
    use crate::web::media::Source;
    use ovsp::model::{MediaSource, TrackKind};
    if audio {
        (
            Source::Microphone,
            MediaSource::Microphone,
            TrackKind::Audio,
        )
    } else {
        (Source::Camera, MediaSource::Camera, TrackKind::Video)
    }
}
