//! RAII ownership of every JS callback: event listeners and timers.
//!
//! A [`Listener`] adds itself with `addEventListener` and removes itself on drop, before its
//! `Closure` is freed; a [`Timer`] clears its `setTimeout` on drop. No closure is ever
//! leaked. [`live_callbacks`] counts the callbacks alive right now, so tests
//! can prove that leaving a session leaves nothing behind.
//!
//! The SDK's own listeners and timers are *hooks* ([`Listener::hook`], [`Timer::hook`],
//! [`watch`]): each hands its event, with a numeric tag, to a [`Handler`] it holds weakly.
//! All of them share one closure type, so the browser layer has one set of callback shims.

use crate::prelude::*;
use alloc::rc::Weak;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, EventTarget};

/// The page has one thread; an atomic is simply the cheapest global counter there.
static LIVE: AtomicUsize = AtomicUsize::new(0);

fn live_add(d: isize) {
    LIVE.store(LIVE.load(Relaxed).wrapping_add_signed(d), Relaxed);
}

/// Number of [`Listener`]s and [`Timer`]s currently registered with the browser.
pub fn live_callbacks() -> usize {
    LIVE.load(Relaxed)
}

/// Receives what hooked listeners, timers and promises report.
pub trait Handler {
    /// Called with the hook's tag and its value: the event, the settled promise's value, or
    /// `undefined` for a timer.
    fn on(&self, tag: u32, value: JsValue);
}

/// A weak reference to a [`Handler`]; a hook whose handler is gone does nothing.
pub type Hook = Weak<dyn Handler>;

/// Added to a [`watch`]ed promise's tag when it was rejected.
pub const REJECTED: u32 = 0x80;

/// The one closure type behind every hook.
fn hook(h: &Hook, tag: u32) -> Closure<dyn FnMut(JsValue)> {
    let h = h.clone();
    Closure::new(move |v: JsValue| {
        if let Some(h) = h.upgrade() {
            h.on(tag, v);
        }
    })
}

/// Waits for `p` in a task of its own, then calls the handler with `tag` and the value, or
/// with `tag | REJECTED` and the error.
pub fn watch(p: js_sys::Promise, h: &Hook, tag: u32) {
    let h = h.clone();
    spawn(Box::pin(async move {
        let (tag, v) = match wasm_bindgen_futures::JsFuture::from(p).await {
            Ok(v) => (tag, v),
            Err(e) => (tag | REJECTED, e),
        };
        if let Some(h) = h.upgrade() {
            h.on(tag, v);
        }
    }));
}

/// Runs `task` on the page's executor (`spawn_local`). Every task of the browser layer is
/// spawned as this one boxed type, so the executor's spawning code is compiled once.
pub fn spawn(task: Pin<Box<dyn Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(task);
}

/// Every callback handed to the browser has this one signature, so there is one set of
/// call shims for all of them.
fn callback<F: FnMut(Event) + 'static>(mut f: F) -> Closure<dyn FnMut(JsValue)> {
    Closure::new(move |v: JsValue| f(v.unchecked_into()))
}

/// An event listener that is removed when dropped.
#[must_use = "the listener is removed as soon as it is dropped"]
pub struct Listener {
    target: JsValue,
    /// The event type, or the handler property.
    ty: &'static str,
    /// What undoes it, called with `key` and the callback: `removeEventListener` (`key`: the
    /// event type) or `clearTimeout` (`key`: the timer id); empty for a handler property,
    /// which is cleared instead.
    remove: &'static str,
    key: JsValue,
    cb: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    /// Adds `f` as a listener for `ty` events on `target`.
    pub fn new<F: FnMut(Event) + 'static>(target: &EventTarget, ty: &'static str, f: F) -> Self {
        Self::attach(target, ty, false, callback(f))
    }

    /// Installs `f` as the `prop` handler property (for example `"onended"`) of `target`,
    /// cleared again on drop. Only for events a browser does not deliver to
    /// `addEventListener` listeners: Firefox ESR calls a MediaStreamTrack's `onended` but not
    /// its `ended` listeners.
    pub fn property<F: FnMut(Event) + 'static>(
        target: &EventTarget,
        prop: &'static str,
        f: F,
    ) -> Self {
        Self::attach(target, prop, true, callback(f))
    }

    /// Adds a listener for `ty` events on `target` (or, with `property`, sets the `ty` handler
    /// property) that calls `h` with `tag` and the event.
    pub fn hook(
        target: &EventTarget,
        ty: &'static str,
        property: bool,
        h: &Hook,
        tag: u32,
    ) -> Self {
        Self::attach(target, ty, property, hook(h, tag))
    }

    /// The one body behind [`Listener::new`], [`Listener::property`] and [`Listener::hook`].
    #[inline(never)]
    fn attach(
        target: &EventTarget,
        ty: &'static str,
        property: bool,
        cb: Closure<dyn FnMut(JsValue)>,
    ) -> Self {
        let key = JsValue::from_str(ty);
        let remove = if property {
            super::js::set(target, ty, cb.as_ref());
            ""
        } else {
            // addEventListener only throws for a non-callable callback, which a Closure never
            // is.
            let _ = super::js::call(target, "addEventListener", &[&key, cb.as_ref()]);
            "removeEventListener"
        };
        Self::own(target, ty, remove, key, cb)
    }

    /// Counts and keeps what was just registered with the browser.
    fn own(
        target: &JsValue,
        ty: &'static str,
        remove: &'static str,
        key: JsValue,
        cb: Closure<dyn FnMut(JsValue)>,
    ) -> Self {
        live_add(1);
        Listener {
            target: target.clone(),
            ty,
            remove,
            key,
            cb,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if self.remove.is_empty() {
            super::js::set(&self.target, self.ty, &JsValue::NULL);
        } else {
            // clearTimeout ignores the callback.
            let _ = super::js::call(&self.target, self.remove, &[&self.key, self.cb.as_ref()]);
        }
        live_add(-1);
    }
}

/// Listeners for each of `types` on `target`: the one of `types[i]` calls `h` with `tag + i`
/// and the event.
#[inline(never)]
pub fn hooks(target: &EventTarget, types: &[&'static str], h: &Hook, tag: u32) -> Vec<Listener> {
    let mut out = Vec::with_capacity(types.len());
    for (i, ty) in types.iter().enumerate() {
        out.push(Listener::hook(target, ty, false, h, tag + i as u32));
    }
    out
}

/// A `setTimeout` that is cleared when dropped.
#[must_use = "the timer is cancelled as soon as it is dropped"]
pub struct Timer {
    _set: Listener,
}

impl Timer {
    /// Calls `f` once after `ms` milliseconds, unless dropped first.
    pub fn new<F: FnMut() + 'static>(ms: i32, mut f: F) -> Self {
        Self::start(ms, Closure::new(move |_: JsValue| f()))
    }

    /// Calls `h` with `tag` (and `undefined`) once after `ms` milliseconds, unless dropped
    /// first.
    pub fn hook(ms: i32, h: &Hook, tag: u32) -> Self {
        Self::start(ms, hook(h, tag))
    }

    #[inline(never)]
    fn start(ms: i32, cb: Closure<dyn FnMut(JsValue)>) -> Self {
        // The global object has `setTimeout` and `clearTimeout` in a page and in a worker.
        let global = js_sys::global();
        let id = super::js::call(&global, "setTimeout", &[cb.as_ref(), &ms.max(0).into()])
            .unwrap_or_default();
        Timer {
            _set: Listener::own(&global, "", "clearTimeout", id, cb),
        }
    }
}

/// Resolves after `ms` milliseconds (the timer is cancelled if the future is dropped).
pub async fn sleep(ms: i32) {
    let (tx, rx) = super::chan::oneshot::<()>();
    let mut tx = Some(tx);
    let _t = Timer::new(ms, move || {
        if let Some(tx) = tx.take() {
            tx.send(());
        }
    });
    let _ = rx.await;
}
