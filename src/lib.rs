//! Convene: a video-room SDK for the browser, written in Rust and compiled to WebAssembly.
//!
//! The crate is the binding layer. The protocol lives in `ovsp`, the sans-IO session machine in
//! `convene-core`; this crate adds the browser adapters and the session actor ([`web`], wasm32
//! only) and the JavaScript classes built on them. On other targets it compiles to an empty
//! library so that host builds and tests of the workspace keep working.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(target_arch = "wasm32")]
pub mod web;

pub mod api;
