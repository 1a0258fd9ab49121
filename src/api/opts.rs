//! The session options every facade accepts: `iceServers` and `logLevel` (with `host`).

use convene_core::Config;
use wasm_bindgen::JsValue;

use super::common::{self, get};
use super::error::ApiError;
use super::wire;
use crate::web::log::Level;
use crate::web::peer::IceServer;
use crate::web::session::SessionHandle;

/// A session for `token` configured from the facade's `options`: `host`, `iceServers` (used in
/// addition to the servers the OVSP server announces) and `logLevel` (what the session writes
/// to the console). Every option is checked before the session is created.
pub fn session(
    token: &str,
    options: &JsValue,
    edit: impl FnOnce(&mut Config),
) -> Result<SessionHandle, ApiError> {
    let ice = wire::ice_servers(&common::from_js(&get(options, "iceServers"), "iceServers")?)?;
    let level = wire::log_level(&common::from_js(&get(options, "logLevel"), "logLevel")?)?
        .and_then(Level::parse);
    let handle = common::session(token, common::get_str(options, "host"), edit)?;
    if let Some(l) = level {
        handle.set_log_level(l);
    }
    handle.set_ice_servers(
        ice.into_iter()
            .map(|s| IceServer {
                urls: s.urls,
                username: s.username,
                credential: s.credential,
            })
            .collect(),
    );
    Ok(handle)
}
