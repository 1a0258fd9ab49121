//! The session options every facade accepts besides `host`: `iceServers` and `logLevel`.

use crate::prelude::*;
use convene_core::IceServer;
use wasm_bindgen::JsValue;

use super::common::{self, get, Listeners};
use super::error::ApiError;
use super::wire;
use crate::web::log::Level;
use crate::web::session::SessionHandle;

/// Checked `iceServers` and `logLevel` of a facade's options.
pub struct SessionOptions {
    ice: Vec<IceServer>,
    level: Option<Level>,
}

/// Reads and checks the options (before any session is created): `iceServers` are used in
/// addition to the servers the OVSP server announces, `logLevel` sets what the session writes
/// to the console.
#[inline(never)]
pub fn read(options: &JsValue) -> Result<SessionOptions, ApiError> {
    let ice = wire::ice_servers(&common::from_js(&get(options, "iceServers"), "iceServers")?)?;
    let level = wire::log_level(&common::from_js(&get(options, "logLevel"), "logLevel")?)?
        .and_then(Level::parse);
    Ok(SessionOptions { ice, level })
}

impl SessionOptions {
    /// Applies the options to a new session (before `join`) and returns the facade's listener
    /// registry, which reports throwing listeners at the session's level.
    #[inline(never)]
    pub fn apply(self, handle: &SessionHandle) -> Listeners {
        let listeners = Listeners::default();
        if let Some(l) = self.level {
            handle.set_log_level(l);
            listeners.set_level(l);
        }
        handle.set_ice_servers(self.ice);
        listeners
    }
}
