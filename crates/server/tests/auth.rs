//! Token attacks, transport rules (subprotocol, first frame, deadlines), HTTP endpoints.

mod common;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use convene_server::auth::{Key, KeyStore};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn hs_sign(secret: &[u8], input: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn forge(header: Value, payload: &Value, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(&header), b64(payload));
    let sig = hs_sign(secret, &input);
    format!("{input}.{sig}")
}

/// Connects with `token`: expects error `code` and close 4001.
async fn refused(env: &Env, token: &str, code: i32, what: &str) {
    let mut c = env.client().await;
    let r = c.connect(token).await;
    let e = match r {
        Err(e) => e,
        Ok(v) => panic!("{what}: accepted: {v}"),
    };
    assert_eq!(e.code.0, code, "{what}: {e:?}");
    assert_eq!(c.closed_code().await, Some(4001), "{what}: close code");
}

#[tokio::test]
async fn token_attacks_are_refused_with_their_codes() {
    let env = start().await;
    let good = claims("eve", "vault", ALL_PERMS);

    // alg none (several spellings), with and without a signature.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = format!(
            "{}.{}.",
            b64(&json!({"alg": alg, "typ": "JWT", "kid": HS_KID})),
            b64(&good)
        );
        refused(&env, &t, 20102, alg).await;
    }
    // Wrong key: right kid, other secret.
    let t = forge(
        json!({"alg": "HS256", "kid": HS_KID}),
        &good,
        b"another-secret-0123456789",
    );
    refused(&env, &t, 20107, "wrong key").await;
    // Wrong alg for the key: an HS256 token naming the ES256 key (key confusion).
    let t = forge(json!({"alg": "HS256", "kid": ES_KID}), &good, HS_SECRET);
    refused(&env, &t, 20102, "HS256 with ES256 key").await;
    // ES256 header on the HS256 key.
    let t = forge(json!({"alg": "ES256", "kid": HS_KID}), &good, HS_SECRET);
    refused(&env, &t, 20102, "ES256 with HS256 key").await;
    // Unsupported algorithms.
    let t = forge(json!({"alg": "HS512", "kid": HS_KID}), &good, HS_SECRET);
    refused(&env, &t, 20102, "HS512").await;
    // Unknown kid.
    let t = forge(
        json!({"alg": "HS256", "kid": "AK_nobody"}),
        &good,
        HS_SECRET,
    );
    refused(&env, &t, 20103, "unknown kid").await;
    // Expired (beyond the 30 s skew) and not yet valid.
    let mut c = good.clone();
    c["exp"] = json!(now_s() - 120);
    c["iat"] = json!(now_s() - 3600);
    c["nbf"] = json!(now_s() - 3600);
    refused(&env, &env.token(&c), 20104, "expired").await;
    let mut c = good.clone();
    c["nbf"] = json!(now_s() + 600);
    refused(&env, &env.token(&c), 20105, "not yet valid").await;
    // Within the skew is fine.
    let mut c = good.clone();
    c["exp"] = json!(now_s() - 10);
    c["iat"] = json!(now_s() - 100);
    c["nbf"] = json!(now_s() - 100);
    env.connected(&env.token(&c)).await;
    // Lifetime over the cap.
    let mut c = good.clone();
    c["exp"] = json!(now_s() + 48 * 3600);
    refused(&env, &env.token(&c), 20101, "lifetime").await;
    // Wrong room / missing grant.
    let mut c = good.clone();
    c["ovsp"]["room"] = json!("");
    refused(&env, &env.token(&c), 20106, "empty room").await;
    let mut c = good.clone();
    c.as_object_mut().unwrap().remove("ovsp");
    refused(&env, &env.token(&c), 20106, "no grant").await;
    let mut c = good.clone();
    c["aud"] = json!("someone-else");
    refused(&env, &env.token(&c), 20106, "audience").await;
    // Tampered payload: signed token, payload swapped for another identity.
    for kid in [HS_KID, ES_KID] {
        let t = env.keys.sign(kid, &good).unwrap();
        let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
        let mut evil = good.clone();
        evil["ovsp"]["permissions"] = json!(["*"]);
        parts[1] = b64(&evil);
        refused(&env, &parts.join("."), 20107, "tampered").await;
    }
    // Garbage.
    for g in [
        "garbage",
        "a.b.c",
        "....",
        "eyJhbGciOiJIUzI1NiJ9",
        "\u{1}\u{2}",
    ] {
        refused(&env, g, 20101, g).await;
    }
    // Missing token.
    let mut c = env.client().await;
    let r = c
        .call(
            "session.connect",
            json!({"protocol": {"major": 1, "minor": 0}}),
        )
        .await;
    assert_code(&r, 20101);

    // ES256 happy path, and a room that does not exist without auto_create.
    let mut es = good.clone();
    es["iss"] = json!(ES_KID);
    let t = env.keys.sign(ES_KID, &es).unwrap();
    let (_c, r) = env.connected(&t).await;
    assert_eq!(r["identity"], "eve");
    let mut c = good.clone();
    c["ovsp"]["auto_create"] = json!(false);
    c["ovsp"]["room"] = json!("nowhere");
    let (mut cl, _) = env.connected(&env.token(&c)).await;
    assert_code(&cl.join(json!({})).await.map(|_| Value::Null), 53106);
}

#[tokio::test]
async fn key_confusion_with_public_key_bytes_is_refused() {
    // The classic attack signs HS256 with the verifier's public key as the secret.
    let env = start().await;
    let Some(Key::Es256 { public, .. }) = env.keys.get(ES_KID).cloned() else {
        panic!("no ES key");
    };
    let pk = public.to_encoded_point(false);
    let t = forge(
        json!({"alg": "HS256", "kid": ES_KID}),
        &claims("eve", "vault", ALL_PERMS),
        pk.as_bytes(),
    );
    refused(&env, &t, 20102, "public key as HMAC secret").await;
}

#[tokio::test]
async fn transport_rules() {
    let env = start_with(|c| c.first_frame_timeout = Duration::from_millis(300)).await;
    // No subprotocol: accepted, 54000 with data.supported, then 4011.
    let mut c = Client::open(&env.url(), false).await;
    let code = c.closed_code().await;
    assert_eq!(code, Some(4011));
    let e = &c.null_errors[0];
    assert_eq!(e.code.0, 54000);
    assert_eq!(
        e.data.as_ref().unwrap().supported.as_deref(),
        Some(&["ovsp.v1".to_string()][..])
    );
    // First frame is not session.connect: 54001 and 4009.
    let mut c = env.client().await;
    let r = c.call("ping", json!({"ts": 1})).await;
    assert_code(&r, 54001);
    assert_eq!(c.closed_code().await, Some(4009));
    // Garbage first frame: parse error and 4009.
    let mut c = env.client().await;
    c.send_raw("{nope").await;
    assert_eq!(c.closed_code().await, Some(4009));
    assert_eq!(c.null_errors[0].code.0, -32700);
    // No frame within the deadline: 4008.
    let mut c = env.client().await;
    assert_eq!(c.closed_code().await, Some(4008));
    // Unsupported major version: 54000 and 4011.
    let mut c = env.client().await;
    let r = c
        .call(
            "session.connect",
            json!({"protocol": {"major": 2, "minor": 0}, "token": env.token_for("a", "r", &[])}),
        )
        .await;
    assert_code(&r, 54000);
    assert_eq!(c.closed_code().await, Some(4011));
    // Minor version negotiation: min(client, server).
    let mut c = env.client().await;
    let r = c
        .call(
            "session.connect",
            json!({"protocol": {"major": 1, "minor": 7}, "token": env.token_for("a", "r", &[])}),
        )
        .await
        .unwrap();
    assert_eq!(r["protocol"]["minor"], 0);
    assert_eq!(r["resumed"], false);
    assert!(r["session_id"].as_str().unwrap().starts_with("ses_"));
    assert_eq!(r["resume_token"].as_str().unwrap().len(), 35);
    assert_eq!(r["timers"]["resume_window_ms"], 30000);
}

async fn http(addr: std::net::SocketAddr, request: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn healthz_and_dev_token_only_in_dev_mode() {
    let env = start().await;
    let r = http(
        env.server.addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("\"status\":\"ok\""));
    let body = r#"{"room":"demo","identity":"alice"}"#;
    let req = format!(
        "POST /dev/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let r = http(env.server.addr, &req).await;
    assert!(
        r.starts_with("HTTP/1.1 404") || r.starts_with("HTTP/1.1 405"),
        "{r}"
    );

    // Dev mode: the dev key signs, and the token it returns connects with moderator rights.
    let mut dev = convene_server::ServerConfig::dev();
    dev.www_dir = std::env::temp_dir();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = convene_server::start(dev, listener).await.unwrap();
    let r = http(server.addr, &req).await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let json_start = r.find("\r\n\r\n").unwrap() + 4;
    let v: Value = serde_json::from_str(r[json_start..].trim()).unwrap();
    let token = v["token"].as_str().unwrap();
    let mut c = Client::open(&server.ws_url(), true).await;
    c.connect(token).await.unwrap();
    let snap = c.join(json!({})).await.unwrap();
    assert_eq!(snap.room.name, "demo");
    assert!(c.call("room.lock", json!({})).await.is_ok());
    let bad = r#"{"room":"","identity":"x"}"#;
    let req = format!(
        "POST /dev/token HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{bad}",
        bad.len()
    );
    assert!(http(server.addr, &req).await.starts_with("HTTP/1.1 400"));
    // A dev token is worthless against a server with other keys.
    let mut c = env.client().await;
    assert_code(&c.connect(token).await, 20103);
    let _ = KeyStore::new();
}
