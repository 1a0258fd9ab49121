//! RAII ownership of every JS callback: event listeners and timers.
//!
//! A [`Listener`] adds itself with `addEventListener` and removes itself on drop, before its
//! `Closure` is freed; a [`Timer`] clears its `setTimeout` on drop. No closure is ever
//! leaked. [`live_callbacks`] counts the callbacks alive right now, so tests
//! can prove that leaving a session leaves nothing behind.

use std::cell::Cell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, EventTarget};

thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

fn live_add(d: isize) {
    LIVE.with(|c| c.set(c.get().wrapping_add_signed(d)));
}

/// Number of [`Listener`]s and [`Timer`]s currently registered with the browser.
pub fn live_callbacks() -> usize {
    LIVE.with(|c| c.get())
}

/// Every callback handed to the browser has this one signature, so there is one set of
/// call shims for all of them.
fn callback<F: FnMut(Event) + 'static>(mut f: F) -> Closure<dyn FnMut(JsValue)> {
    Closure::new(move |v: JsValue| f(v.unchecked_into()))
}

/// An event listener that is removed when dropped.
#[must_use = "the listener is removed as soon as it is dropped"]
pub struct Listener {
    target: EventTarget,
    ty: &'static str,
    /// Attached through the `on<type>` property instead of `addEventListener`.
    property: bool,
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

    /// The one body behind [`Listener::new`] and [`Listener::property`].
    #[inline(never)]
    fn attach(
        target: &EventTarget,
        ty: &'static str,
        property: bool,
        cb: Closure<dyn FnMut(JsValue)>,
    ) -> Self {
        if property {
            let _ = js_sys::Reflect::set(target, &ty.into(), cb.as_ref());
        } else {
            // addEventListener only throws for a non-callable callback, which a Closure never
            // is.
            let _ = target.add_event_listener_with_callback(ty, cb.as_ref().unchecked_ref());
        }
        live_add(1);
        Listener {
            target: target.clone(),
            ty,
            property,
            cb,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if self.property {
            let _ = js_sys::Reflect::set(&self.target, &self.ty.into(), &JsValue::NULL);
        } else {
            let _ = self
                .target
                .remove_event_listener_with_callback(self.ty, self.cb.as_ref().unchecked_ref());
        }
        live_add(-1);
    }
}

/// A `setTimeout` that is cleared when dropped.
#[must_use = "the timer is cancelled as soon as it is dropped"]
pub struct Timer {
    id: i32,
    _cb: Closure<dyn FnMut(JsValue)>,
}

impl Timer {
    /// Calls `f` once after `ms` milliseconds, unless dropped first.
    pub fn new<F: FnMut() + 'static>(ms: i32, mut f: F) -> Self {
        Self::start(ms, Closure::new(move |_: JsValue| f()))
    }

    #[inline(never)]
    fn start(ms: i32, cb: Closure<dyn FnMut(JsValue)>) -> Self {
        let id = web_sys::window()
            .and_then(|w| {
                w.set_timeout_with_callback_and_timeout_and_arguments_0(
                    cb.as_ref().unchecked_ref(),
                    ms.max(0),
                )
                .ok()
            })
            .unwrap_or(0);
        live_add(1);
        Timer { id, _cb: cb }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(w) = web_sys::window() {
            w.clear_timeout_with_handle(self.id);
        }
        live_add(-1);
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
