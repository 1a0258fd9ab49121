//! Test harness: a real server on 127.0.0.1:0 and a WebSocket client built on the `ovsp` types.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::time::Duration;

use convene_server::auth::{Key, KeyStore};
use convene_server::{RunningServer, ServerConfig};
use futures_util::{SinkExt, StreamExt};
use ovsp::envelope::{EventEnvelope, Request, Response, RpcError, ServerFrame};
use ovsp::model::Snapshot;
use p256::ecdsa::SigningKey;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const HS_KID: &str = "AK_hs";
pub const ES_KID: &str = "AK_es";
pub const HS_SECRET: &[u8] = b"test-secret-0123456789-abcdef";

/// Generous per-frame wait: a missing frame fails the test instead of hanging it.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Env {
    pub server: RunningServer,
    pub keys: KeyStore,
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

pub async fn start_with(f: impl FnOnce(&mut ServerConfig)) -> Env {
    let mut keys = KeyStore::new();
    keys.insert(HS_KID, Key::Hs256(HS_SECRET.to_vec()));
    let sk = SigningKey::random(&mut rand::rngs::OsRng);
    keys.insert(
        ES_KID,
        Key::Es256 {
            public: *sk.verifying_key(),
            private: Some(sk),
        },
    );
    let mut cfg = ServerConfig::new(keys.clone());
    f(&mut cfg);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = convene_server::start(cfg, listener).await.unwrap();
    Env { server, keys }
}

pub fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Moderator-ish default grants.
pub const ALL_PERMS: &[&str] = &["room.self.*", "room.member.*", "room.*"];

pub fn claims(identity: &str, room: &str, perms: &[&str]) -> Value {
    let now = now_s();
    json!({
        "iss": HS_KID, "sub": identity, "aud": "ovsp",
        "iat": now, "nbf": now, "exp": now + 3600,
        "ovsp": {"v": 1, "room": room, "auto_create": true, "name": identity,
                 "role": "member", "permissions": perms}
    })
}

impl Env {
    pub fn url(&self) -> String {
        self.server.ws_url()
    }

    pub fn token(&self, claims: &Value) -> String {
        self.keys.sign(HS_KID, claims).unwrap()
    }

    pub fn token_for(&self, identity: &str, room: &str, perms: &[&str]) -> String {
        self.token(&claims(identity, room, perms))
    }

    pub async fn client(&self) -> Client {
        Client::open(&self.url(), true).await
    }

    /// Connects with a token; returns the client and the connect result.
    pub async fn connected(&self, token: &str) -> (Client, Value) {
        let mut c = self.client().await;
        let r = c.connect(token).await.expect("connect");
        (c, r)
    }

    /// Connects and joins with the given claims.
    pub async fn joined_with(&self, claims: &Value) -> (Client, Snapshot) {
        let (mut c, _) = self.connected(&self.token(claims)).await;
        let snap = c.join(json!({})).await.expect("join");
        (c, snap)
    }

    /// Opens a new socket and resumes a session; the new client continues the seq check
    /// from `last_seq`.
    pub async fn resume(
        &self,
        session_id: &str,
        resume_token: &str,
        last_seq: u64,
    ) -> (Client, Result<Value, RpcError>) {
        self.resume_with_ids(session_id, resume_token, last_seq, 1000)
            .await
    }

    /// Like [`Env::resume`], continuing request ids after `next_id` (ids are unique per session).
    pub async fn resume_with_ids(
        &self,
        session_id: &str,
        resume_token: &str,
        last_seq: u64,
        next_id: u64,
    ) -> (Client, Result<Value, RpcError>) {
        let mut c = self.client().await;
        c.last_seq = last_seq;
        c.next_id = next_id;
        let r = c
            .call(
                "session.connect",
                json!({"protocol": {"major": 1, "minor": 0},
                       "resume": {"session_id": session_id, "resume_token": resume_token, "last_seq": last_seq}}),
            )
            .await;
        if let Ok(v) = &r {
            c.session_id = v["session_id"].as_str().unwrap_or_default().to_string();
            c.resume_token = v["resume_token"].as_str().unwrap_or_default().to_string();
            // After a gap the snapshot is the new baseline.
            if let Some(seq) = v["snapshot"]["seq"].as_u64() {
                c.last_seq = seq;
            }
        }
        (c, r)
    }

    pub async fn joined(&self, identity: &str, room: &str, perms: &[&str]) -> (Client, Snapshot) {
        self.joined_with(&claims(identity, room, perms)).await
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the client saw.
#[derive(Debug)]
pub enum Frame {
    Server(ServerFrame),
    Close(Option<u16>),
}

pub struct Client {
    ws: Ws,
    next_id: u64,
    /// Events received but not yet consumed by the test.
    pub events: VecDeque<EventEnvelope>,
    /// Highest durable seq processed.
    pub last_seq: u64,
    /// Durable events dropped as duplicates (seq <= last_seq).
    pub duplicates: u64,
    pub session_id: String,
    pub resume_token: String,
    pub member_id: String,
    pub closed: Option<Option<u16>>,
    /// Error responses with `id: null`.
    pub null_errors: Vec<RpcError>,
}

impl Client {
    pub async fn open(url: &str, subprotocol: bool) -> Client {
        let mut req = url.into_client_request().unwrap();
        if subprotocol {
            req.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static(ovsp::SUBPROTOCOL),
            );
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        Client {
            ws,
            next_id: 0,
            events: VecDeque::new(),
            last_seq: 0,
            duplicates: 0,
            session_id: String::new(),
            resume_token: String::new(),
            member_id: String::new(),
            closed: None,
            null_errors: vec![],
        }
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::text(text.to_string())).await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.ws.send(Message::binary(bytes)).await.unwrap();
    }

    pub fn next_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Reads one frame (panics after [`WAIT`]).
    pub async fn recv(&mut self) -> Frame {
        self.recv_timeout(WAIT)
            .await
            .expect("timed out waiting for a frame")
    }

    pub async fn recv_timeout(&mut self, wait: Duration) -> Option<Frame> {
        if let Some(c) = self.closed {
            return Some(Frame::Close(c));
        }
        loop {
            let msg = match tokio::time::timeout(wait, self.ws.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => {
                    self.closed = Some(None);
                    return Some(Frame::Close(None));
                }
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Text(t) => {
                    let frame = ServerFrame::decode(&t)
                        .unwrap_or_else(|e| panic!("server sent an undecodable frame: {e}: {t}"));
                    return Some(Frame::Server(frame));
                }
                Message::Close(c) => {
                    let code = c.map(|c| u16::from(c.code));
                    self.closed = Some(code);
                    return Some(Frame::Close(code));
                }
                _ => continue,
            }
        }
    }

    /// Files an event (checking seq continuity) and returns whether it was new.
    pub fn file_event(&mut self, ev: EventEnvelope) {
        if let Some(seq) = ev.seq {
            if seq <= self.last_seq {
                self.duplicates += 1;
                return;
            }
            assert_eq!(
                seq,
                self.last_seq + 1,
                "durable seq gap: got {seq} after {} ({})",
                self.last_seq,
                ev.event_type
            );
            self.last_seq = seq;
        }
        self.events.push_back(ev);
    }

    /// Reads frames until the response to `id`; events are filed on the way.
    pub async fn response(&mut self, id: &str) -> Response {
        loop {
            match self.recv().await {
                Frame::Server(ServerFrame::Event(ev)) => self.file_event(ev),
                Frame::Server(ServerFrame::Response(r)) => {
                    if r.id.as_deref() == Some(id) {
                        return r;
                    }
                    if r.id.is_none() {
                        if let Err(e) = r.outcome {
                            self.null_errors.push(e);
                        }
                    }
                }
                Frame::Close(c) => panic!("socket closed ({c:?}) while waiting for response {id}"),
            }
        }
    }

    /// Reads until the next response, whatever its id.
    pub async fn any_response(&mut self) -> Response {
        loop {
            match self.recv().await {
                Frame::Server(ServerFrame::Event(ev)) => self.file_event(ev),
                Frame::Server(ServerFrame::Response(r)) => return r,
                Frame::Close(c) => panic!("socket closed ({c:?}) while waiting for a response"),
            }
        }
    }

    pub async fn send_request(&mut self, id: &str, method: &str, params: &Value) {
        let frame = ovsp::envelope::ClientFrame::Request(Request::new(id, method, params)).encode();
        self.send_raw(&frame).await;
    }

    pub async fn call_id(
        &mut self,
        id: &str,
        method: &str,
        params: Value,
    ) -> Result<Value, RpcError> {
        self.send_request(id, method, &params).await;
        let r = self.response(id).await;
        if let Ok(v) = &r.outcome {
            let seq = v.get("seq").and_then(ovsp::json::Value::as_u64);
            if let Some(seq) = seq {
                assert!(
                    seq >= self.last_seq,
                    "result seq {seq} < events already seen {}",
                    self.last_seq
                );
            }
        }
        r.outcome.map(Value::from)
    }

    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.next_id();
        self.call_id(&id, method, params).await
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        let frame = ovsp::envelope::ClientFrame::Notification(ovsp::envelope::Notification::new(
            method, &params,
        ))
        .encode();
        self.send_raw(&frame).await;
    }

    pub async fn connect(&mut self, token: &str) -> Result<Value, RpcError> {
        self.last_seq = 0;
        let r = self
            .call(
                "session.connect",
                json!({"protocol": {"major": 1, "minor": 0}, "token": token,
                       "client": {"sdk": "test", "version": "0"}, "capabilities": ["layouts"]}),
            )
            .await?;
        self.session_id = r["session_id"].as_str().unwrap().to_string();
        self.resume_token = r["resume_token"].as_str().unwrap().to_string();
        Ok(r)
    }

    pub async fn join(&mut self, params: Value) -> Result<Snapshot, RpcError> {
        let r = self.call("room.join", params).await?;
        let snap: Snapshot = serde_json::from_value(r).expect("snapshot shape");
        self.member_id = snap.self_.id.clone();
        Ok(snap)
    }

    /// The next event of type `ty` (earlier events of other types stay queued).
    pub async fn event(&mut self, ty: &str) -> EventEnvelope {
        loop {
            if let Some(i) = self.events.iter().position(|e| e.event_type == ty) {
                return self.events.remove(i).unwrap();
            }
            match self.recv().await {
                Frame::Server(ServerFrame::Event(ev)) => self.file_event(ev),
                Frame::Server(ServerFrame::Response(r)) => {
                    panic!("unexpected response while waiting for {ty}: {r:?}")
                }
                Frame::Close(c) => panic!("socket closed ({c:?}) while waiting for event {ty}"),
            }
        }
    }

    /// The next event of type `ty` whose data satisfies `pred` (earlier ones of that type are
    /// skipped: coalesced events may arrive in between on a slow machine).
    pub async fn event_where(&mut self, ty: &str, pred: impl Fn(&Value) -> bool) -> EventEnvelope {
        loop {
            let ev = self.event(ty).await;
            if pred(&Value::from(ev.data.clone())) {
                return ev;
            }
        }
    }

    /// Reads for `wait` and returns every event received in that time (plus queued ones).
    pub async fn drain(&mut self, wait: Duration) -> Vec<EventEnvelope> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            match self.recv_timeout(left).await {
                None => break,
                Some(Frame::Server(ServerFrame::Event(ev))) => self.file_event(ev),
                Some(Frame::Server(ServerFrame::Response(r))) => {
                    if let (None, Err(e)) = (&r.id, r.outcome) {
                        self.null_errors.push(e);
                    }
                }
                Some(Frame::Close(_)) => break,
            }
        }
        self.events.drain(..).collect()
    }

    /// Asserts no event of type `ty` arrives within `wait`.
    pub async fn no_event(&mut self, ty: &str, wait: Duration) {
        let evs = self.drain(wait).await;
        assert!(
            !evs.iter().any(|e| e.event_type == ty),
            "unexpected {ty}: {evs:?}"
        );
    }

    /// Reads until the socket closes; returns the close code.
    pub async fn closed_code(&mut self) -> Option<u16> {
        loop {
            match self.recv().await {
                Frame::Close(c) => return c,
                Frame::Server(ServerFrame::Event(ev)) => self.file_event(ev),
                Frame::Server(ServerFrame::Response(r)) => {
                    if let (None, Err(e)) = (&r.id, r.outcome) {
                        self.null_errors.push(e);
                    }
                }
            }
        }
    }

    pub async fn ack(&mut self) {
        let seq = self.last_seq;
        self.notify("session.ack", json!({"seq": seq})).await;
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    /// Drops the TCP connection without a close handshake.
    pub fn drop_connection(self) {
        drop(self.ws);
    }
}

/// Asserts an error code.
pub fn assert_code(r: &Result<Value, RpcError>, code: i32) -> RpcError {
    match r {
        Err(e) if e.code.0 == code => e.clone(),
        other => panic!("expected error {code}, got {other:?}"),
    }
}
