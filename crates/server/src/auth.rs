//! JWT validation and minting (HS256 and ES256 only).
//!
//! Tokens are compact JWS. The header's `kid` (or, failing that, the payload's `iss`) selects an
//! API key; the key's type fixes the only algorithm accepted for it, so `alg: none`, unknown
//! algorithms and an algorithm that does not match the key are all refused before any signature
//! work happens. Every failure maps to one of the OVSP token codes 20101–20107.

use std::collections::HashMap;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Sha256;

/// Clock skew tolerated on `nbf` and `exp`, in seconds.
pub const CLOCK_SKEW_S: u64 = 30;
/// Default cap on a token's lifetime (`exp - max(nbf, iat)`), in seconds.
pub const DEFAULT_MAX_LIFETIME_S: u64 = 24 * 3600;

/// Why a token was refused. Each variant has exactly one numeric code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// 20101: not a compact JWS, bad base64 or JSON, or missing/invalid registered claims.
    Malformed(&'static str),
    /// 20102: bad header: `alg` none/unknown or not the key's algorithm.
    BadHeader(&'static str),
    /// 20103: unknown `kid`/`iss`, or missing subject.
    UnknownIssuer(&'static str),
    /// 20104: expired.
    Expired,
    /// 20105: not yet valid.
    NotYetValid,
    /// 20106: the `ovsp` grant is missing or invalid, or names another room.
    Grants(&'static str),
    /// 20107: the signature does not verify.
    Signature,
}

impl TokenError {
    /// The OVSP numeric code of this error.
    pub fn code(&self) -> i32 {
        match self {
            TokenError::Malformed(_) => 20101,
            TokenError::BadHeader(_) => 20102,
            TokenError::UnknownIssuer(_) => 20103,
            TokenError::Expired => 20104,
            TokenError::NotYetValid => 20105,
            TokenError::Grants(_) => 20106,
            TokenError::Signature => 20107,
        }
    }

    /// Short human text (never contains token material).
    pub fn message(&self) -> String {
        match self {
            TokenError::Malformed(why) => format!("token invalid: {why}"),
            TokenError::BadHeader(why) => format!("token header invalid: {why}"),
            TokenError::UnknownIssuer(why) => format!("token issuer/subject invalid: {why}"),
            TokenError::Expired => "token expired".into(),
            TokenError::NotYetValid => "token not yet valid".into(),
            TokenError::Grants(why) => format!("token grants invalid: {why}"),
            TokenError::Signature => "token signature invalid".into(),
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.code())
    }
}

impl std::error::Error for TokenError {}

/// One API key.
#[derive(Clone)]
pub enum Key {
    /// Shared secret for HS256.
    Hs256(Vec<u8>),
    /// P-256 public key for ES256, with the private half when this server may mint tokens.
    Es256 {
        /// Verification key.
        public: VerifyingKey,
        /// Optional signing key.
        private: Option<SigningKey>,
    },
}

impl Key {
    /// The only JWS `alg` this key accepts.
    pub fn alg(&self) -> &'static str {
        match self {
            Key::Hs256(_) => "HS256",
            Key::Es256 { .. } => "ES256",
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        write!(f, "Key({}, <redacted>)", self.alg())
    }
}

/// Errors while loading keys from a file or the environment.
#[derive(Debug)]
pub struct KeyLoadError(pub String);

impl fmt::Display for KeyLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key configuration: {}", self.0)
    }
}

impl std::error::Error for KeyLoadError {}

#[derive(Deserialize)]
struct KeyFile {
    keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    kid: String,
    alg: String,
    secret: Option<String>,
    public_key: Option<String>,
    private_key: Option<String>,
}

/// The set of API keys, by key id.
#[derive(Clone, Debug)]
pub struct KeyStore {
    keys: HashMap<String, Key>,
    /// Cap on token lifetime in seconds.
    pub max_lifetime_s: u64,
}

impl Default for KeyStore {
    fn default() -> Self {
        KeyStore::new()
    }
}

impl KeyStore {
    /// An empty store with the default lifetime cap.
    pub fn new() -> Self {
        KeyStore {
            keys: HashMap::new(),
            max_lifetime_s: DEFAULT_MAX_LIFETIME_S,
        }
    }

    /// Adds (or replaces) a key.
    pub fn insert(&mut self, kid: impl Into<String>, key: Key) {
        self.keys.insert(kid.into(), key);
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Iterates over `(kid, key)`.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Key)> {
        self.keys.iter()
    }

    /// Looks a key up by id.
    pub fn get(&self, kid: &str) -> Option<&Key> {
        self.keys.get(kid)
    }

    /// Parses the JSON key file format:
    /// `{"keys":[{"kid":"AK_1","alg":"HS256","secret":"…"},
    ///           {"kid":"AK_2","alg":"ES256","public_key":"-----BEGIN PUBLIC KEY-----…","private_key":"…"?}]}`.
    pub fn from_json(text: &str) -> Result<Self, KeyLoadError> {
        let file: KeyFile =
            serde_json::from_str(text).map_err(|e| KeyLoadError(format!("bad JSON: {e}")))?;
        let mut store = KeyStore::new();
        for entry in file.keys {
            let key = match entry.alg.as_str() {
                "HS256" => {
                    let secret = entry.secret.ok_or_else(|| {
                        KeyLoadError(format!("{}: HS256 needs secret", entry.kid))
                    })?;
                    if secret.len() < 16 {
                        return Err(KeyLoadError(format!(
                            "{}: HS256 secret must be at least 16 bytes",
                            entry.kid
                        )));
                    }
                    Key::Hs256(secret.into_bytes())
                }
                "ES256" => {
                    let private = match &entry.private_key {
                        Some(pem) => Some(SigningKey::from_pkcs8_pem(pem).map_err(|e| {
                            KeyLoadError(format!("{}: bad private_key: {e}", entry.kid))
                        })?),
                        None => None,
                    };
                    let public = match (&entry.public_key, &private) {
                        (Some(pem), _) => VerifyingKey::from_public_key_pem(pem).map_err(|e| {
                            KeyLoadError(format!("{}: bad public_key: {e}", entry.kid))
                        })?,
                        (None, Some(sk)) => *sk.verifying_key(),
                        (None, None) => {
                            return Err(KeyLoadError(format!(
                                "{}: ES256 needs public_key or private_key",
                                entry.kid
                            )))
                        }
                    };
                    Key::Es256 { public, private }
                }
                other => {
                    return Err(KeyLoadError(format!(
                        "{}: unsupported alg {other} (HS256 or ES256)",
                        entry.kid
                    )))
                }
            };
            store.insert(entry.kid, key);
        }
        Ok(store)
    }

    /// Validates a compact JWT and returns its payload. `now_s` is Unix seconds.
    ///
    /// Checks, in order: shape, header (`alg` must be HS256/ES256 and match the key of `kid`),
    /// key lookup, signature, then registered claims (`sub`, `aud`, `exp`, `nbf`, lifetime cap).
    /// The `ovsp` grant is left to the caller.
    pub fn verify(&self, token: &str, now_s: u64) -> Result<Map<String, Value>, TokenError> {
        let mut parts = token.split('.');
        let (Some(h64), Some(p64), Some(s64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed("not a compact JWS"));
        };
        let header: Map<String, Value> = decode_json_part(h64)?;
        let payload: Map<String, Value> = decode_json_part(p64)?;
        let sig = b64_decode(s64).ok_or(TokenError::Malformed("bad base64 in signature"))?;

        let alg = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(TokenError::BadHeader("missing alg"))?;
        if alg != "HS256" && alg != "ES256" {
            return Err(TokenError::BadHeader("unsupported alg"));
        }
        if let Some(typ) = header.get("typ") {
            if !typ.as_str().is_some_and(|t| t.eq_ignore_ascii_case("JWT")) {
                return Err(TokenError::BadHeader("typ must be JWT"));
            }
        }
        if header.contains_key("crit") {
            return Err(TokenError::BadHeader("crit not supported"));
        }
        let kid = match header.get("kid") {
            Some(Value::String(k)) => k.as_str(),
            Some(_) => return Err(TokenError::BadHeader("kid must be a string")),
            None => payload
                .get("iss")
                .and_then(Value::as_str)
                .ok_or(TokenError::UnknownIssuer("no kid or iss"))?,
        };
        let key = self
            .keys
            .get(kid)
            .ok_or(TokenError::UnknownIssuer("unknown key id"))?;
        if key.alg() != alg {
            return Err(TokenError::BadHeader("alg does not match the key"));
        }
        let signed = &token[..h64.len() + 1 + p64.len()];
        match key {
            Key::Hs256(secret) => {
                let mut mac =
                    Hmac::<Sha256>::new_from_slice(secret).map_err(|_| TokenError::Signature)?;
                mac.update(signed.as_bytes());
                mac.verify_slice(&sig).map_err(|_| TokenError::Signature)?;
            }
            Key::Es256 { public, .. } => {
                let sig = Signature::from_slice(&sig).map_err(|_| TokenError::Signature)?;
                public
                    .verify(signed.as_bytes(), &sig)
                    .map_err(|_| TokenError::Signature)?;
            }
        }

        if let Some(iss) = payload.get("iss") {
            if iss.as_str() != Some(kid) {
                return Err(TokenError::UnknownIssuer("iss does not match kid"));
            }
        }
        match payload.get("sub") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 256 => {}
            _ => return Err(TokenError::UnknownIssuer("missing or invalid sub")),
        }
        if let Some(aud) = payload.get("aud") {
            let ok = match aud {
                Value::String(a) => a == "ovsp",
                Value::Array(list) => list.iter().any(|a| a.as_str() == Some("ovsp")),
                _ => false,
            };
            if !ok {
                return Err(TokenError::Grants("aud must include ovsp"));
            }
        }
        let exp = num_claim(&payload, "exp")?.ok_or(TokenError::Malformed("missing exp"))?;
        let nbf = num_claim(&payload, "nbf")?;
        let iat = num_claim(&payload, "iat")?;
        if exp.saturating_add(CLOCK_SKEW_S) < now_s {
            return Err(TokenError::Expired);
        }
        if let Some(nbf) = nbf {
            if nbf > now_s.saturating_add(CLOCK_SKEW_S) {
                return Err(TokenError::NotYetValid);
            }
        }
        if let Some(iat) = iat {
            if iat > now_s.saturating_add(CLOCK_SKEW_S) {
                return Err(TokenError::NotYetValid);
            }
        }
        let start = nbf.or(iat).unwrap_or(now_s);
        if exp.saturating_sub(start) > self.max_lifetime_s {
            return Err(TokenError::Malformed("lifetime exceeds the server's cap"));
        }
        Ok(payload)
    }

    /// Signs `claims` with key `kid` (HS256, or ES256 when the private key is known).
    pub fn sign(&self, kid: &str, claims: &Value) -> Option<String> {
        let key = self.keys.get(kid)?;
        let header = serde_json::json!({"alg": key.alg(), "typ": "JWT", "kid": kid});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = match key {
            Key::Hs256(secret) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
                mac.update(signing_input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Key::Es256 { private, .. } => {
                let sk = private.as_ref()?;
                let sig: Signature = sk.sign(signing_input.as_bytes());
                sig.to_bytes().to_vec()
            }
        };
        Some(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

fn b64_decode(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()
}

fn decode_json_part(part: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = b64_decode(part).ok_or(TokenError::Malformed("bad base64"))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::Malformed("not a JSON object")),
    }
}

fn num_claim(payload: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, TokenError> {
    match payload.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| *f >= 0.0 && f.is_finite())
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or(TokenError::Malformed("numeric date claim is not a number")),
    }
}

/// Params fields whose values never appear in logs.
pub const REDACTED_FIELDS: &[&str] = &[
    "token",
    "resume_token",
    "sdp",
    "candidate",
    "credential",
    "secret",
];

/// A copy of `v` fit for logs: the values of [`REDACTED_FIELDS`] (at any depth) are replaced by
/// `"[redacted]"`, and long strings are cut.
pub fn redact(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if REDACTED_FIELDS.contains(&k.as_str()) {
                        Value::from("[redacted]")
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().take(16).map(redact).collect()),
        Value::String(s) if s.len() > 128 => {
            let cut: String = s.chars().take(64).collect();
            Value::from(format!("{cut}…"))
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> u64 {
        1_800_000_000
    }

    fn claims() -> Value {
        serde_json::json!({"sub":"alice","aud":"ovsp","iat":now(),"nbf":now(),"exp":now()+3600,
            "ovsp":{"room":"r1"}})
    }

    fn store() -> KeyStore {
        let mut s = KeyStore::new();
        s.insert("hs", Key::Hs256(b"0123456789abcdef0123".to_vec()));
        let sk = SigningKey::random(&mut rand::rngs::OsRng);
        s.insert(
            "es",
            Key::Es256 {
                public: *sk.verifying_key(),
                private: Some(sk),
            },
        );
        s
    }

    fn forge(header: Value, payload: &Value, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(sig)
        )
    }

    #[test]
    fn both_algorithms_round_trip() {
        let s = store();
        for kid in ["hs", "es"] {
            let t = s.sign(kid, &claims()).unwrap();
            let p = s.verify(&t, now()).unwrap();
            assert_eq!(p["sub"], "alice");
        }
    }

    #[test]
    fn alg_none_is_refused() {
        let s = store();
        for alg in ["none", "None", "NONE", "HS512", "RS256"] {
            let t = forge(serde_json::json!({"alg":alg,"kid":"hs"}), &claims(), b"");
            assert_eq!(s.verify(&t, now()).unwrap_err().code(), 20102, "{alg}");
        }
        let t = forge(serde_json::json!({"kid":"hs"}), &claims(), b"");
        assert_eq!(s.verify(&t, now()).unwrap_err().code(), 20102);
    }

    #[test]
    fn mismatched_alg_is_refused() {
        let s = store();
        // An HS256 token whose kid names the ES256 key: classic key-confusion attempt.
        let signed = s.sign("hs", &claims()).unwrap();
        let (_, rest) = signed.split_once('.').unwrap();
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"es"}"#);
        let t = format!("{header}.{rest}");
        assert_eq!(s.verify(&t, now()).unwrap_err().code(), 20102);
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"hs"}"#);
        let t = format!("{header}.{rest}");
        assert_eq!(s.verify(&t, now()).unwrap_err().code(), 20102);
    }

    #[test]
    fn time_checks_use_skew() {
        let s = store();
        let mut c = claims();
        c["exp"] = (now() - 20).into();
        c["nbf"] = (now() - 100).into();
        c["iat"] = (now() - 100).into();
        assert!(s.verify(&s.sign("hs", &c).unwrap(), now()).is_ok());
        c["exp"] = (now() - 31).into();
        assert_eq!(
            s.verify(&s.sign("hs", &c).unwrap(), now()).unwrap_err(),
            TokenError::Expired
        );
        let mut c = claims();
        c["nbf"] = (now() + 60).into();
        assert_eq!(
            s.verify(&s.sign("hs", &c).unwrap(), now()).unwrap_err(),
            TokenError::NotYetValid
        );
        let mut c = claims();
        c["exp"] = (now() + 25 * 3600).into();
        assert_eq!(
            s.verify(&s.sign("hs", &c).unwrap(), now())
                .unwrap_err()
                .code(),
            20101
        );
    }

    #[test]
    fn key_file_loads_hs256_and_es256() {
        use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let sk = SigningKey::random(&mut rand::rngs::OsRng);
        let private = sk.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        let public = sk
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let json = serde_json::json!({"keys": [
            {"kid": "AK_hs", "alg": "HS256", "secret": "0123456789abcdef-long-enough"},
            {"kid": "AK_es", "alg": "ES256", "private_key": private},
            {"kid": "AK_verify_only", "alg": "ES256", "public_key": public},
        ]});
        let store = KeyStore::from_json(&json.to_string()).unwrap();
        assert_eq!(store.len(), 3);
        let mut c = claims();
        c["iss"] = "AK_es".into();
        let t = store.sign("AK_es", &c).unwrap();
        assert!(store.verify(&t, now()).is_ok());
        // The public-only key verifies tokens made with its private half elsewhere.
        let mut c2 = claims();
        c2["iss"] = "AK_verify_only".into();
        let mut other = KeyStore::new();
        other.insert(
            "AK_verify_only",
            Key::Es256 {
                public: *sk.verifying_key(),
                private: Some(sk),
            },
        );
        let t = other.sign("AK_verify_only", &c2).unwrap();
        assert!(store.verify(&t, now()).is_ok());
        assert!(
            store.sign("AK_verify_only", &c2).is_none(),
            "no private key, no minting"
        );
        for bad in [
            r#"{"keys":[{"kid":"x","alg":"HS256","secret":"short"}]}"#,
            r#"{"keys":[{"kid":"x","alg":"none"}]}"#,
            r#"{"keys":[{"kid":"x","alg":"ES256","public_key":"nope"}]}"#,
            "not json",
        ] {
            assert!(KeyStore::from_json(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redaction_hides_tokens_and_sdp() {
        let v = serde_json::json!({"token": "eyJsecret", "resume": {"resume_token": "rt_x"},
            "sdp": "v=0...", "list": [{"candidate": "candidate:1"}], "keep": "ok"});
        let r = redact(&v).to_string();
        for secret in ["eyJsecret", "rt_x", "v=0", "candidate:1"] {
            assert!(!r.contains(secret), "{r}");
        }
        assert!(r.contains("\"keep\":\"ok\""));
    }

    #[test]
    fn tampering_and_garbage() {
        let s = store();
        for kid in ["hs", "es"] {
            let t = s.sign(kid, &claims()).unwrap();
            let mut parts: Vec<&str> = t.split('.').collect();
            let mut c = claims();
            c["sub"] = "mallory".into();
            let evil = URL_SAFE_NO_PAD.encode(c.to_string());
            parts[1] = &evil;
            assert_eq!(s.verify(&parts.join("."), now()).unwrap_err().code(), 20107);
        }
        for g in ["", "a", "a.b", "a.b.c", "....", "eyJ.eyJ.x", "\u{0}\u{1}"] {
            assert_eq!(s.verify(g, now()).unwrap_err().code(), 20101, "{g:?}");
        }
        let t = forge(
            serde_json::json!({"alg":"HS256","kid":"nope"}),
            &claims(),
            b"x",
        );
        assert_eq!(s.verify(&t, now()).unwrap_err().code(), 20103);
    }
}
