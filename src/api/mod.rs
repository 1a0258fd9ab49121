//! The JavaScript facades: `RoomSession`, `Room`, `Call` and the rooms returned by
//! `connect()`, with their typed errors.
//!
//! Each facade keeps the names of the API it follows exactly (methods, parameters, events).
//! The work is split so that the rules are testable on the host:
//!
//! - [`error`]: [`ApiError`], the typed error every rejected promise carries;
//! - [`wire`]: argument validation and the translation of facade calls into OVSP requests;
//! - [`token`]: reading a token's expiry and room;
//!
//! and, in the browser only, the `#[wasm_bindgen]` classes built on the session actor of
//! [`crate::web`]. The exact TypeScript declarations of those classes live in `convene.d.ts`
//! next to this file and are embedded into the generated declarations.

pub mod error;
pub mod token;
pub mod wire;

pub use error::ApiError;

#[cfg(target_arch = "wasm32")]
pub mod call;
#[cfg(target_arch = "wasm32")]
pub mod common;
#[cfg(target_arch = "wasm32")]
pub mod room;
#[cfg(target_arch = "wasm32")]
pub mod room_session;
#[cfg(target_arch = "wasm32")]
pub mod video;

#[cfg(target_arch = "wasm32")]
mod ts {
    use wasm_bindgen::prelude::*;

    /// The hand-written declarations of every exported class (their generated ones are skipped).
    #[wasm_bindgen(typescript_custom_section)]
    const TS_API: &'static str = include_str!("convene.d.ts");
}
