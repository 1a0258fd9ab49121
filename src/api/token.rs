//! Reading the facts the SDK needs from an access token without verifying it (the server
//! verifies): its expiry, for the client-side expiry timer of `Room`, and its room name.

use crate::prelude::*;
use ovsp::codes::Code;
use ovsp::json::Value;

use super::error::ApiError;

/// What the SDK reads from a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// `exp` in milliseconds since the Unix epoch, if present.
    pub expires_at_ms: Option<u64>,
    /// The `ovsp.room` claim.
    pub room: Option<String>,
    /// The `sub` claim (identity).
    pub identity: Option<String>,
}

fn malformed(why: &str) -> ApiError {
    ApiError::new(
        Code::TOKEN_INVALID,
        super::error::concat(&["access token invalid: ", why]),
    )
}

/// Decodes unpadded base64url (padding tolerated).
fn b64url(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        if c == b'=' {
            break;
        }
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Reads `exp`, `sub` and `ovsp.room` from a compact JWT. A token that is not a JWT at all
/// gives 20101 `AccessTokenInvalidError`.
pub fn inspect(token: &str) -> Result<TokenInfo, ApiError> {
    // The positions of the two dots of `header.payload.signature` (a byte loop: no string
    // splitter in the package).
    let t = token.as_bytes();
    let mut dots = [0usize; 3];
    let mut n = 0;
    for (i, &c) in t.iter().enumerate() {
        if c == b'.' {
            if n == 2 {
                n = 3;
                break;
            }
            dots[n] = i;
            n += 1;
        }
    }
    if n != 2 {
        return Err(malformed("not a compact JWT (three dot-separated parts)"));
    }
    let bytes =
        b64url(&t[dots[0] + 1..dots[1]]).ok_or_else(|| malformed("payload is not base64url"))?;
    let claims: Value = super::wire::utf8(&bytes)
        .and_then(|t| parse_json(&t))
        .ok_or_else(|| malformed("payload is not JSON"))?;
    if !claims.is_object() {
        return Err(malformed("payload is not a JSON object"));
    }
    let expires_at_ms = claims
        .get("exp")
        .and_then(Value::as_f64)
        .filter(|e| e.is_finite() && *e > 0.0 && *e < 1e13)
        .map(|e| (e * 1000.0) as u64);
    let room = claims
        .get("ovsp")
        .and_then(|o| o.get("room"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let identity = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
    Ok(TokenInfo {
        expires_at_ms,
        room,
        identity,
    })
}

/// The error a Room reports when its client token expired without `updateClientToken`.
pub fn expired_error() -> ApiError {
    ApiError::new(
        Code::TOKEN_EXPIRED,
        "the client token expired; call updateClientToken() with a fresh token before it expires",
    )
}

/// JSON text as a value: the browser's `JSON.parse` in the package (which then carries no JSON
/// text parser of its own), `ovsp::json::parse` on the host.
fn parse_json(text: &str) -> Option<Value> {
    #[cfg(target_arch = "wasm32")]
    return crate::web::js::parse_json(&text.into());
    #[cfg(not(target_arch = "wasm32"))]
    return ovsp::json::parse(text).ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(json: &str) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = json.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |a, (i, &x)| a | (u32::from(x) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn reads_exp_room_and_identity() {
        let t = format!(
            "{}.{}.sig",
            enc(r#"{"alg":"HS256"}"#),
            enc(r#"{"sub":"alice","exp":1730003600,"ovsp":{"room":"standup"}}"#)
        );
        let i = inspect(&t).unwrap();
        assert_eq!(i.expires_at_ms, Some(1_730_003_600_000));
        assert_eq!(i.room.as_deref(), Some("standup"));
        assert_eq!(i.identity.as_deref(), Some("alice"));
    }

    #[test]
    fn garbage_is_a_typed_token_error() {
        for bad in [
            "",
            "abc",
            "a.b",
            "a.!!!.c",
            "a.b.c.d",
            &format!("x.{}.y", enc("[1]")),
        ] {
            let e = inspect(bad).unwrap_err();
            assert_eq!(e.code, Code::TOKEN_INVALID, "{bad}");
            assert_eq!(e.name(), "AccessTokenInvalidError");
        }
        let no_exp = format!("x.{}.y", enc(r#"{"sub":"a","exp":"soon"}"#));
        assert_eq!(inspect(&no_exp).unwrap().expires_at_ms, None);
        assert_eq!(expired_error().name(), "AccessTokenExpiredError");
    }
}
