//! HTTP surface: `/ovsp` (WebSocket), `/healthz`, and in dev mode `POST /dev/token` plus the demo
//! app (`www/`) and the built package (`/pkg`).

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::services::ServeDir;

use crate::config::{ServerConfig, DEV_KID};
use crate::hub::HubHandle;

/// Largest WebSocket message the transport accepts. Frames above the protocol limit
/// (256 KiB) but below this are answered with 54008 on a still-usable session.
pub const TRANSPORT_MAX_MESSAGE: usize = 1024 * 1024;

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    /// Configuration (keys, timers, paths).
    pub config: Arc<ServerConfig>,
    pub(crate) hub: HubHandle,
    /// The media engine, when enabled.
    pub media: Option<crate::media::MediaHandle>,
}

impl AppState {
    /// Creates the state and starts the directory task.
    pub fn new(config: Arc<ServerConfig>, media: Option<crate::media::MediaHandle>) -> Self {
        let hub = crate::hub::spawn(config.clone(), media.clone());
        AppState { config, hub, media }
    }
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .route("/ovsp", get(ovsp_upgrade));
    if state.config.dev {
        app = app
            .route("/dev/token", post(dev_token))
            .nest_service("/pkg", ServeDir::new(&state.config.pkg_dir))
            .fallback_service(ServeDir::new(&state.config.www_dir));
    }
    app.with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let media = state
        .media
        .as_ref()
        .map(|m| json!({"udp": m.local_addr().to_string()}));
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "protocol": ovsp::SUBPROTOCOL,
        "dev": state.config.dev,
        "media": media,
    }))
}

async fn ovsp_upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let offered = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == ovsp::SUBPROTOCOL);
    // Small per-socket buffers: signaling frames are small, and every frame is flushed as it
    // is sent, so large buffers only cost memory per session (they grow when needed).
    let ws = ws
        .max_message_size(TRANSPORT_MAX_MESSAGE)
        .max_frame_size(TRANSPORT_MAX_MESSAGE)
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0);
    let ws = if offered {
        ws.protocols([ovsp::SUBPROTOCOL])
    } else {
        ws
    };
    ws.on_upgrade(move |socket| crate::session::run_socket(state, socket, offered))
}

/// Body of `POST /dev/token`.
#[derive(Debug, Deserialize)]
struct DevTokenRequest {
    room: String,
    identity: String,
    name: Option<String>,
    role: Option<String>,
    permissions: Option<Vec<String>>,
    #[serde(default)]
    ttl_s: Option<u64>,
}

fn bad_request(msg: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg}))).into_response()
}

/// Permissions a dev token grants when the request names none: enough to moderate the demo.
pub const DEV_PERMISSIONS: &[&str] = &["room.self.*", "room.member.*", "room.*"];

async fn dev_token(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let req: DevTokenRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(&format!("invalid body: {e}")),
    };
    let valid_name = |s: &str| !s.is_empty() && s.len() <= 64 && !s.chars().any(char::is_control);
    if !valid_name(&req.room) {
        return bad_request("room must be 1..64 printable characters");
    }
    if !valid_name(&req.identity) {
        return bad_request("identity must be 1..64 printable characters");
    }
    let role = req.role.unwrap_or_else(|| "member".into());
    if role != "member" && role != "audience" {
        return bad_request("role must be member or audience");
    }
    let now = crate::util::now_ms() / 1000;
    let ttl = req.ttl_s.unwrap_or(6 * 3600).clamp(60, 24 * 3600);
    let permissions = req
        .permissions
        .unwrap_or_else(|| DEV_PERMISSIONS.iter().map(|s| s.to_string()).collect());
    let claims = json!({
        "iss": DEV_KID,
        "sub": req.identity,
        "aud": "ovsp",
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": crate::util::new_id(""),
        "ovsp": {
            "v": 1,
            "room": req.room,
            "auto_create": true,
            "name": req.name.unwrap_or_else(|| req.identity.clone()),
            "name_editable": true,
            "role": role,
            "permissions": permissions,
            "media_allowed": {"send": ["microphone", "camera", "screen", "screen_audio", "data", "custom"],
                              "recv": ["audio", "video", "data"]},
        }
    });
    match state.config.keys.sign(DEV_KID, &claims) {
        Some(token) => {
            Json(json!({"token": token, "expires_at": (now + ttl) * 1000})).into_response()
        }
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": "no dev key"})),
        )
            .into_response(),
    }
}
