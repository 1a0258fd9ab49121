//! Command line and runtime configuration.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::auth::{Key, KeyLoadError, KeyStore};

/// Key id of the in-memory dev key.
pub const DEV_KID: &str = "dev";

/// `convene-server`: the reference OVSP v1 server.
#[derive(Debug, Clone, Parser)]
#[command(name = "convene-server", version, about)]
pub struct Cli {
    /// Address to listen on for HTTP and WebSocket.
    #[arg(long, default_value = "127.0.0.1:8080", env = "CONVENE_BIND")]
    pub bind: SocketAddr,
    /// Development mode: in-memory key, POST /dev/token, serves www/ and pkg/.
    #[arg(long)]
    pub dev: bool,
    /// JSON key file (`{"keys":[{"kid","alg":"HS256","secret"} | {"kid","alg":"ES256","public_key"}]}`).
    /// Without it, keys come from CONVENE_KEYS (same JSON) or CONVENE_API_KEY + CONVENE_API_SECRET.
    #[arg(long, env = "CONVENE_KEYS_FILE")]
    pub keys: Option<PathBuf>,
    /// Directory of the demo app served in dev mode.
    #[arg(long, default_value = "www")]
    pub www_dir: PathBuf,
    /// Directory of the built npm package served at /pkg in dev mode.
    #[arg(long, default_value = "pkg")]
    pub pkg_dir: PathBuf,
    /// UDP port of the media engine (one port for all peers; 0 = any).
    #[arg(long, default_value_t = 0)]
    pub udp_port: u16,
    /// Public IP announced in ICE candidates (default: the bind address's IP).
    #[arg(long)]
    pub public_ip: Option<IpAddr>,
    /// Run signaling only, without the media engine.
    #[arg(long)]
    pub no_media: bool,
    /// Maximum token lifetime in seconds.
    #[arg(long, default_value_t = crate::auth::DEFAULT_MAX_LIFETIME_S)]
    pub max_token_lifetime: u64,
}

/// Everything the server needs at run time.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// API keys.
    pub keys: KeyStore,
    /// Dev mode (dev token endpoint, static files).
    pub dev: bool,
    /// Demo app directory.
    pub www_dir: PathBuf,
    /// Package directory.
    pub pkg_dir: PathBuf,
    /// Media UDP port.
    pub udp_port: u16,
    /// Public IP for ICE.
    pub public_ip: Option<IpAddr>,
    /// Deadline for the first frame.
    pub first_frame_timeout: Duration,
    /// Resume window.
    pub resume_window: Duration,
    /// Ping timeout (no inbound frame for this long closes the socket).
    pub ping_timeout: Duration,
    /// Run the media engine (str0m SFU). Without it, media methods answer -32601 and declared
    /// tracks count as live at once (signaling-only mode, used by tests).
    pub media_enabled: bool,
    /// Durable events always kept for resume (unacked); older ones are evicted only beyond
    /// this count *and* [`ServerConfig::replay_buffer_bytes`].
    pub replay_buffer_events: usize,
    /// Byte budget of the replay buffer (see [`ServerConfig::replay_buffer_events`]).
    pub replay_buffer_bytes: usize,
    /// Bytes a socket may have queued for writing, beyond what the replay buffer holds anyway,
    /// before its peer counts as too slow: the socket is then closed (4008) and the client
    /// resumes (with a snapshot if the replay buffer had to drop events meanwhile).
    pub max_queued_bytes: usize,
}

impl ServerConfig {
    /// Defaults for a server with the given keys.
    pub fn new(keys: KeyStore) -> Self {
        ServerConfig {
            keys,
            dev: false,
            www_dir: PathBuf::from("www"),
            pkg_dir: PathBuf::from("pkg"),
            udp_port: 0,
            public_ip: None,
            first_frame_timeout: Duration::from_millis(5000),
            resume_window: Duration::from_millis(30_000),
            ping_timeout: Duration::from_millis(15_000),
            media_enabled: false,
            replay_buffer_events: ovsp::limits::REPLAY_BUFFER_EVENTS,
            replay_buffer_bytes: 8 * 1024 * 1024,
            max_queued_bytes: 32 * 1024 * 1024,
        }
    }

    /// A dev-mode configuration with a fresh random HS256 dev key.
    pub fn dev() -> Self {
        let mut keys = KeyStore::new();
        keys.insert(DEV_KID, Key::Hs256(random_secret()));
        let mut cfg = ServerConfig::new(keys);
        cfg.dev = true;
        cfg
    }

    /// Builds the configuration from the command line and environment.
    pub fn from_cli(cli: &Cli) -> Result<Self, KeyLoadError> {
        let mut cfg = if cli.dev {
            ServerConfig::dev()
        } else {
            ServerConfig::new(KeyStore::new())
        };
        let loaded = if let Some(path) = &cli.keys {
            let text = std::fs::read_to_string(path)
                .map_err(|e| KeyLoadError(format!("{}: {e}", path.display())))?;
            Some(KeyStore::from_json(&text)?)
        } else if let Ok(text) = std::env::var("CONVENE_KEYS") {
            Some(KeyStore::from_json(&text)?)
        } else if let (Ok(kid), Ok(secret)) = (
            std::env::var("CONVENE_API_KEY"),
            std::env::var("CONVENE_API_SECRET"),
        ) {
            let json = serde_json::json!({"keys":[{"kid":kid,"alg":"HS256","secret":secret}]});
            Some(KeyStore::from_json(&json.to_string())?)
        } else {
            None
        };
        if let Some(store) = loaded {
            for (kid, key) in store.iter() {
                cfg.keys.insert(kid.clone(), key.clone());
            }
        }
        if cfg.keys.is_empty() {
            return Err(KeyLoadError(
                "no API keys: pass --keys FILE, set CONVENE_KEYS or CONVENE_API_KEY/CONVENE_API_SECRET, or use --dev"
                    .into(),
            ));
        }
        cfg.keys.max_lifetime_s = cli.max_token_lifetime;
        cfg.www_dir = resolve_repo_path(&cli.www_dir);
        cfg.pkg_dir = resolve_repo_path(&cli.pkg_dir);
        cfg.udp_port = cli.udp_port;
        cfg.public_ip = cli.public_ip;
        cfg.media_enabled = !cli.no_media;
        Ok(cfg)
    }
}

/// A relative path that does not exist under the working directory is looked up relative to
/// the repository root (the server is normally run from there; `cargo run` from elsewhere
/// still finds `www/` and `pkg/`).
fn resolve_repo_path(p: &std::path::Path) -> PathBuf {
    if p.is_absolute() || p.exists() {
        return p.to_path_buf();
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidate = root.join(p);
    if candidate.exists() {
        candidate
    } else {
        p.to_path_buf()
    }
}

/// 32 random bytes.
pub fn random_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut b = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}
