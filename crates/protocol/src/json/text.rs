//! JSON text to [`Value`] and back: a small recursive-descent parser and a printer, one
//! function each for the whole grammar (no generic serializer or deserializer machinery).
//!
//! The parser accepts exactly RFC 8259 JSON: escapes including `\uXXXX` and surrogate pairs
//! (a lone surrogate is an error, as with serde_json), numbers as `u64` when non-negative
//! integers fit, `i64` when negative integers fit, `f64` otherwise (correctly rounded; one
//! beyond the `f64` range is an error), at most [`MAX_DEPTH`] nested arrays and objects, and
//! nothing but whitespace after the value. A duplicated object key keeps its last value.
//! Errors name what was wrong and where ("expected value at line 1 column 5").
//!
//! The printer writes compact JSON as serde_json does: members in the map's order, strings
//! with `"`, `\` and control characters escaped (`\n`-style where JSON has a short form,
//! `\u00XX` otherwise), floats in their shortest round-trip form.

use super::num::{decimal_to_f64, write_f64, write_u64};
use super::{Map, Number, Value, WireError};
use crate::prelude::*;

/// The deepest nesting of arrays and objects the parser accepts (serde_json's limit).
pub const MAX_DEPTH: u32 = 127;

/// Parse one JSON text.
pub(crate) fn parse(text: &str) -> Result<Value, WireError> {
    let mut p = Parser {
        text,
        pos: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.skip_ws();
    if p.pos < text.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// An error at the current position, worded as serde_json words it.
    #[inline(never)]
    fn error(&self, what: &str) -> WireError {
        let before = self.text.as_bytes().get(..self.pos).unwrap_or_default();
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count();
        let mut msg = String::from(what);
        let mut buf = [0u8; 20];
        msg.push_str(" at line ");
        push_ascii(&mut msg, write_u64(&mut buf, line as u64));
        msg.push_str(" column ");
        push_ascii(&mut msg, write_u64(&mut buf, column as u64));
        WireError::custom(msg)
    }

    /// The error for the byte at the current position: end of input or `what`.
    fn unexpected(&mut self, what: &str) -> WireError {
        if self.pos >= self.text.len() {
            self.error("EOF while parsing a value")
        } else {
            self.pos += 1;
            self.error(what)
        }
    }

    /// Consume `word` (after its first byte, already seen).
    fn word(&mut self, word: &str, v: Value) -> Result<Value, WireError> {
        for &b in word.as_bytes() {
            if self.peek() != Some(b) {
                return Err(self.unexpected("expected ident"));
            }
            self.pos += 1;
        }
        Ok(v)
    }

    fn value(&mut self) -> Result<Value, WireError> {
        self.skip_ws();
        match self.peek() {
            Some(b'n') => self.word("null", Value::Null),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'"') => {
                self.pos += 1;
                self.string().map(Value::String)
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                self.enter()?;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_ws();
                                if self.peek() == Some(b']') {
                                    self.pos += 1;
                                    return Err(self.error("trailing comma"));
                                }
                            }
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            None => return Err(self.error("EOF while parsing a list")),
                            Some(_) => return Err(self.unexpected("expected `,` or `]`")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(Value::Array(items))
            }
            Some(b'{') => {
                self.enter()?;
                let mut entries = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_ws();
                        match self.peek() {
                            Some(b'"') => self.pos += 1,
                            None => return Err(self.error("EOF while parsing an object")),
                            Some(b'}') => {
                                self.pos += 1;
                                return Err(self.error("trailing comma"));
                            }
                            Some(_) => return Err(self.unexpected("key must be a string")),
                        }
                        let key = self.string()?;
                        self.skip_ws();
                        match self.peek() {
                            Some(b':') => self.pos += 1,
                            None => return Err(self.error("EOF while parsing an object")),
                            Some(_) => return Err(self.unexpected("expected `:`")),
                        }
                        let v = self.value()?;
                        entries.push((key, v));
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            None => return Err(self.error("EOF while parsing an object")),
                            Some(_) => return Err(self.unexpected("expected `,` or `}`")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(Value::Object(Map::from_entries(entries)))
            }
            _ => Err(self.unexpected("expected value")),
        }
    }

    /// One level deeper (the opening bracket at the current position).
    fn enter(&mut self) -> Result<(), WireError> {
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        Ok(())
    }

    /// The rest of a string (after its opening quote).
    fn string(&mut self) -> Result<String, WireError> {
        let bytes = self.text.as_bytes();
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(&b) = bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // Both ends are at ASCII bytes (or the end), so on character boundaries.
            out.push_str(self.text.get(start..self.pos).unwrap_or_default());
            match self.peek() {
                None => return Err(self.error("EOF while parsing a string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        None => return Err(self.error("EOF while parsing a string")),
                        Some(c) => c,
                    };
                    self.pos += 1;
                    out.push(match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.error("invalid escape")),
                    });
                }
                Some(_) => {
                    self.pos += 1;
                    return Err(self.error(
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ));
                }
            }
        }
    }

    /// Four hex digits.
    fn hex4(&mut self) -> Result<u32, WireError> {
        let mut x = 0;
        for _ in 0..4 {
            let d = match self.peek() {
                None => return Err(self.error("EOF while parsing a string")),
                Some(c) => match char::from(c).to_digit(16) {
                    Some(d) => d,
                    None => {
                        self.pos += 1;
                        return Err(self.error("invalid escape"));
                    }
                },
            };
            self.pos += 1;
            x = x * 16 + d;
        }
        Ok(x)
    }

    /// The character of a `\u` escape (after the `u`), with its low surrogate escape when it
    /// is a high surrogate.
    fn unicode_escape(&mut self) -> Result<char, WireError> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if self.text.as_bytes().get(self.pos..self.pos + 2) != Some(b"\\u") {
                    return Err(self.error("unexpected end of hex escape"));
                }
                self.pos += 2;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(self.error("lone leading surrogate in hex escape"));
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone leading surrogate in hex escape")),
            x => x,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))
    }

    /// A number (at its first byte).
    fn number(&mut self) -> Result<Value, WireError> {
        let bytes = self.text.as_bytes();
        let neg = self.peek() == Some(b'-');
        if neg {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
            }
            _ => return Err(self.unexpected("invalid number")),
        }
        let int_end = self.pos;
        let mut frac_end = int_end;
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            is_float = true;
            let start = self.pos;
            while let Some(b'0'..=b'9') = self.peek() {
                self.pos += 1;
            }
            if self.pos == start {
                return Err(self.unexpected("invalid number"));
            }
            frac_end = self.pos;
        }
        let mut exp: i64 = 0;
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            is_float = true;
            let exp_neg = match self.peek() {
                Some(b'-') => {
                    self.pos += 1;
                    true
                }
                Some(b'+') => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            let start = self.pos;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                self.pos += 1;
                exp = exp.saturating_mul(10).saturating_add(i64::from(d - b'0'));
            }
            if self.pos == start {
                return Err(self.unexpected("invalid number"));
            }
            if exp_neg {
                exp = -exp;
            }
        }
        let int = bytes.get(int_start..int_end).unwrap_or_default();
        if !is_float {
            let mut x = 0u64;
            let mut fits = true;
            for &d in int {
                match x
                    .checked_mul(10)
                    .and_then(|x| x.checked_add(u64::from(d - b'0')))
                {
                    Some(y) => x = y,
                    None => fits = false,
                }
            }
            if fits {
                if !neg {
                    return Ok(Value::from(x));
                }
                // As serde_json: `-0` is the float -0.0.
                if x != 0 && x <= 1 << 63 {
                    return Ok(Value::from((x as i64).wrapping_neg()));
                }
            }
        }
        // Digits of the integer and fraction parts, the exponent moved by the fraction's length.
        let mut digits = int.to_vec();
        let frac = bytes.get(int_end + 1..frac_end).unwrap_or_default();
        digits.extend_from_slice(frac);
        let exp = exp.saturating_sub(frac.len() as i64);
        match decimal_to_f64(&digits, exp) {
            Some(f) => Ok(Value::from(if neg { -f } else { f })),
            None => Err(self.error("number out of range")),
        }
    }
}

/// Append `v` as compact JSON text.
pub(crate) fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, x);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

/// Append a number.
pub(crate) fn write_number(out: &mut String, n: &Number) {
    if !write_integer(out, n) {
        write_f64(out, n.as_f64().unwrap_or(f64::NAN));
    }
}

/// Append an integer as JSON writes it; false (nothing written) for a float. Code that must
/// not carry the float formatter (a WebAssembly bundle) writes numbers through this.
pub(crate) fn write_integer(out: &mut String, n: &Number) -> bool {
    if let Some(u) = n.as_u64() {
        push_u64(out, u);
    } else if let Some(i) = n.as_i64() {
        out.push('-');
        push_u64(out, i.unsigned_abs());
    } else {
        return false;
    }
    true
}

/// Append `n` in decimal.
pub(crate) fn push_u64(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    push_ascii(out, write_u64(&mut buf, n));
}

/// Append an object.
pub(crate) fn write_object(out: &mut String, map: &Map<String, Value>) {
    out.push('{');
    for (i, (k, x)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, k);
        out.push(':');
        write(out, x);
    }
    out.push('}');
}

fn push_ascii(out: &mut String, digits: &[u8]) {
    for &d in digits {
        out.push(char::from(d));
    }
}

/// Append `s` as a JSON string.
pub(crate) fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let short = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'\n' => 'n',
            b'\r' => 'r',
            b'\t' => 't',
            0x08 => 'b',
            0x0c => 'f',
            0..=0x1f => 'u',
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or_default());
        start = i + 1;
        out.push('\\');
        out.push(short);
        if short == 'u' {
            out.push_str("00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}
