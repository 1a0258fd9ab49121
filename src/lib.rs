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
pub mod web;

pub mod api;

/// Runs when the module is instantiated: routes Rust panics (bugs, never input errors) to
/// `console.error` so they are visible in the page.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&wasm_bindgen::JsValue::from_str(&info.to_string()));
    }));
}
