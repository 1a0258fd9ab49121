//! Convene: a video-room SDK for the browser, written in Rust and compiled to WebAssembly.
//!
//! The crate is the binding layer. The protocol lives in `ovsp`, the sans-IO session machine in
//! `convene-core`; this crate adds the browser adapters and the session actor ([`web`], wasm32
//! only) and the JavaScript classes built on them ([`api`]). The browser-facing parts compile
//! only for wasm32; on other targets the crate keeps its host-testable rules (argument
//! validation, error mapping) so that host builds and tests of the workspace keep working.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(target_arch = "wasm32")]
pub(crate) mod cell;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub mod api;

/// The wasm heap: talc, which is smaller in the module than std's dlmalloc and faster.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Runs when the module is instantiated: routes Rust panics (bugs, never input errors) to
/// `console.error` so they are visible in the page.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        // Built by hand: the panic message and its place, without the formatting machinery.
        let mut s = String::from("panicked: ");
        s.push_str(info.payload_as_str().unwrap_or("(no message)"));
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
    }));
}
