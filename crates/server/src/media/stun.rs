//! Just enough STUN parsing to route a binding request by its ICE username.

/// Returns the local ufrag (the part before `:`) of the USERNAME attribute of a STUN message,
/// or `None` when `buf` is not a STUN message with a username.
pub(crate) fn local_ufrag(buf: &[u8]) -> Option<&str> {
    // 20-byte header: type (2), length (2), magic cookie (4), transaction id (12).
    let header = buf.get(..20)?;
    if header[0] & 0xc0 != 0 || header[4..8] != [0x21, 0x12, 0xa4, 0x42] {
        return None;
    }
    let len = u16::from_be_bytes([header[2], header[3]]) as usize;
    let body = buf.get(20..20 + len)?;
    let mut pos = 0;
    while pos + 4 <= body.len() {
        let typ = u16::from_be_bytes([body[pos], body[pos + 1]]);
        let alen = u16::from_be_bytes([body[pos + 2], body[pos + 3]]) as usize;
        let value = body.get(pos + 4..pos + 4 + alen)?;
        if typ == 0x0006 {
            let name = std::str::from_utf8(value).ok()?;
            return name.split(':').next();
        }
        // Attributes are padded to 4 bytes.
        pos += 4 + alen.div_ceil(4) * 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_username() {
        let mut msg = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
        msg.extend_from_slice(&[0u8; 12]);
        // PRIORITY attribute first (4 bytes), then USERNAME "abcd:efg" (8 bytes).
        let attrs: Vec<u8> = [
            &[0x00u8, 0x24, 0x00, 0x04, 1, 2, 3, 4][..],
            &[0x00, 0x06, 0x00, 0x08],
            b"abcd:efg",
        ]
        .concat();
        msg[2..4].copy_from_slice(&(attrs.len() as u16).to_be_bytes());
        msg.extend_from_slice(&attrs);
        assert_eq!(local_ufrag(&msg), Some("abcd"));
        assert_eq!(local_ufrag(&msg[..25]), None);
        assert_eq!(local_ufrag(b"\x80\x60 rtp"), None);
    }
}
