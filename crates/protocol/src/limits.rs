//! Limits and timer defaults. Timers are advertised to the client in `session.connect`'s
//! `timers`; the values here are the defaults.

/// Maximum WebSocket frame size, SDP included (256 KiB).
pub const MAX_FRAME_BYTES: usize = 256 * 1024;
/// Maximum serialised size of a room or member meta object (16 KiB).
pub const MAX_META_BYTES: usize = 16 * 1024;
/// Maximum `message.send` payload and data-frame payload (64 KiB).
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Maximum length of an id, in characters.
pub const MAX_ID_LEN: usize = 64;
/// Interval between client `ping` requests.
pub const PING_INTERVAL_MS: u64 = 5_000;
/// Silence (no inbound frame of any kind) after which either side treats the socket as dead.
pub const PING_TIMEOUT_MS: u64 = 15_000;
/// The server answers every request within this time; after it the client treats the socket
/// as half-open and resumes.
pub const REQUEST_TIMEOUT_MS: u64 = 10_000;
/// How long the client waits for the `session.connect` response.
pub const CONNECT_TIMEOUT_MS: u64 = 10_000;
/// How long the server keeps a session after its socket is lost.
pub const RESUME_WINDOW_MS: u64 = 30_000;
/// Minimum number of durable events in the server's replay buffer.
pub const REPLAY_BUFFER_EVENTS: usize = 2_048;
/// Minimum size of the server's replay buffer in bytes (whichever of events/bytes is larger).
pub const REPLAY_BUFFER_BYTES: usize = 1024 * 1024;
/// Minimum number of responses in the server's response cache.
pub const RESPONSE_CACHE: usize = 256;
/// The client acks at least this often while durable events arrive.
pub const ACK_EVERY_MS: u64 = 2_000;
/// ... or after this many unacked durable events, whichever comes first.
pub const ACK_EVERY_EVENTS: u64 = 64;
/// Full rejoin attempts before the client gives up (`disconnected(53001)`).
pub const FULL_REJOIN_ATTEMPTS: u32 = 3;
/// The first frame (`session.connect`) must arrive within this time (else close 4008).
pub const FIRST_FRAME_DEADLINE_MS: u64 = 5_000;
/// Sustained request rate per session (requests per second).
pub const RATE_SUSTAINED: u32 = 50;
/// Request burst per session.
pub const RATE_BURST: u32 = 100;
/// Maximum `room.speakers` events per second.
pub const SPEAKERS_MAX_PER_SEC: u32 = 5;
/// Maximum `room.audience_count` events per second.
pub const AUDIENCE_COUNT_MAX_PER_SEC: u32 = 1;
/// Reconnect backoff schedule (before jitter); after the last entry, every
/// [`RECONNECT_BACKOFF_MAX_MS`].
pub const RECONNECT_BACKOFF_MS: &[u64] = &[0, 500, 1_000, 2_000, 4_000];
/// Reconnect backoff ceiling.
pub const RECONNECT_BACKOFF_MAX_MS: u64 = 5_000;
/// Reconnect backoff jitter, in percent (±).
pub const RECONNECT_JITTER_PERCENT: u32 = 20;
/// A pub PC ICE state of `disconnected` for longer than this triggers an ICE restart.
pub const ICE_DISCONNECTED_RESTART_MS: u64 = 5_000;
/// ICE still failed this long after a PC failure (socket up) triggers a full rejoin.
pub const ICE_FAILED_REJOIN_MS: u64 = 15_000;
/// Clock skew the server tolerates on token `exp`/`nbf`, in seconds.
pub const TOKEN_CLOCK_SKEW_S: u64 = 30;
/// Longest token lifetime the server accepts by default, in seconds (24 h).
pub const TOKEN_MAX_LIFETIME_S: u64 = 24 * 60 * 60;
/// Maximum number of members a layout geometry is computed for.
pub const MAX_LAYOUT_SLOTS: usize = 100;
