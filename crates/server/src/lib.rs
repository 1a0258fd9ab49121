//! Convene reference server: the OVSP v1 signaling endpoint, JWT auth, rooms as actors.
//!
//! Layout:
//! - [`http`]: axum router (`/ovsp`, `/healthz`, and in dev mode `/dev/token` plus static files);
//! - `session`: one task per signaling session (survives socket loss for the resume window),
//!   owning the per-session `seq`, replay buffer, response cache and rate limiter;
//! - `room`: one task per room, the only owner of that room's state; sessions talk to it over
//!   channels, and it answers through the same channel that carries the room's events, so the
//!   events a request causes always precede its response;
//! - `hub`: a directory task mapping room names and session ids to their actors;
//! - [`auth`]: HS256/ES256 JWT validation and minting.

#![warn(missing_docs)]

pub mod auth;
pub mod config;
pub mod http;
mod hub;
mod layout;
pub mod media;
mod room;
mod session;
pub mod util;
mod wire;

use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{Cli, ServerConfig};

/// A running server (used by `main` and by tests).
pub struct RunningServer {
    /// The address actually bound.
    pub addr: SocketAddr,
    /// Shared state (keys, directory).
    pub state: http::AppState,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Waits until the server stops (it normally runs until the process ends).
    pub async fn wait(self) {
        let _ = self.task.await;
    }

    /// The WebSocket URL of the signaling endpoint.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ovsp", self.addr)
    }

    /// Stops accepting connections.
    pub fn abort(&self) {
        self.task.abort();
    }

    /// Ends every session with `session.closing{reason: server_shutdown, action: resume}` and
    /// close code 4012, then stops accepting connections.
    pub async fn shutdown(&self) {
        self.state.hub.shutdown().await;
        // Give the socket writers a moment to flush the closing frames.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        self.task.abort();
    }
}

/// Starts the server on an already bound listener.
pub async fn start(
    config: ServerConfig,
    listener: tokio::net::TcpListener,
) -> std::io::Result<RunningServer> {
    let addr = listener.local_addr()?;
    let media = if config.media_enabled {
        let ip = config.public_ip.unwrap_or(addr.ip());
        let bind_ip = if config.public_ip.is_some() {
            std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
        } else {
            addr.ip()
        };
        let mut mc = media::MediaConfig::new(SocketAddr::new(bind_ip, config.udp_port));
        mc.public_ip = if ip.is_unspecified() {
            tracing::warn!("binding 0.0.0.0 without --public-ip: announcing 127.0.0.1 in ICE");
            Some(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        } else {
            Some(ip)
        };
        let handle = media::MediaEngine::start(mc)
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        tracing::info!(udp = %handle.local_addr(), "media engine started");
        Some(handle)
    } else {
        None
    };
    let state = http::AppState::new(Arc::new(config), media);
    let app = http::router(state.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "http server stopped");
        }
    });
    Ok(RunningServer { addr, state, task })
}
