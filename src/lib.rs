//! Convene: a video-room SDK for the browser, written in Rust and compiled to WebAssembly.
//!
//! The crate is the binding layer. The protocol lives in `ovsp`, the sans-IO session machine in
//! `convene-core`; this crate adds the browser adapters and the session actor ([`web`], wasm32
//! only) and the JavaScript classes built on them ([`api`]). The browser-facing parts compile
//! only for wasm32; on other targets the crate keeps its host-testable rules (argument
//! validation, error mapping) so that host builds and tests of the workspace keep working.
//!
//! The crate is `no_std` (it needs `alloc` only) unless its `std` feature is on, as in the
//! test builds.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

/// What `std`'s prelude gives, from `alloc` (this crate is `no_std`): the protocol crate's.
pub(crate) use ovsp::prelude;

#[cfg(target_arch = "wasm32")]
pub(crate) mod cell;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub mod api;

/// The wasm heap: talc, which is smaller in the module than std's dlmalloc and faster.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A panic (a bug, never an input error) writes its message and place to `console.error`,
/// then traps. The crate is `no_std` (std's panic runtime is the part of std a browser module
/// would carry), so this handler stands in for std's. A message with arguments (an index out of
/// bounds, say) shows as "(no message)" with its place: writing it out would take the
/// formatting machinery. Test builds link std, which brings its own handler.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use crate::prelude::*;
    use core::sync::atomic::{AtomicBool, Ordering};
    // A panic while reporting one (say, the message's allocation failed) only traps.
    static REPORTING: AtomicBool = AtomicBool::new(false);
    if !REPORTING.swap(true, Ordering::Relaxed) {
        let mut s = String::from("panicked: ");
        s.push_str(info.message().as_str().unwrap_or("(no message)"));
        if let Some(l) = info.location() {
            s.push_str(" at ");
            s.push_str(l.file());
            s.push(':');
            ovsp::json::push_u64(&mut s, l.line().into());
        }
        web::log::write(
            web::log::Level::Trace,
            web::log::Level::Error,
            &s,
            &wasm_bindgen::JsValue::UNDEFINED,
        );
    }
    core::arch::wasm32::unreachable()
}
