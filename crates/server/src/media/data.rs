//! The binary data-track frame carried on `ovsp-reliable` / `ovsp-lossy`.
//!
//! ```text
//!  u8  version = 1
//!  u8  flags   (bit0 = destination list present, uplink only; other bits 0)
//!  u16 data_handle
//!  u32 frame_seq
//!  [if bit0] u8 n, then n × (u8 len, len bytes UTF-8 member_id)
//!  ...payload (≤ 64 KiB)
//! ```

/// The only frame version defined.
pub const DATA_FRAME_VERSION: u8 = 1;

/// Largest payload of one frame.
pub const MAX_PAYLOAD: usize = 64 * 1024;

const FLAG_DESTINATIONS: u8 = 0x01;

/// A decoded data-track frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFrame {
    /// Room-unique data track handle (never 0).
    pub handle: u16,
    /// Per-track, per-sender sequence number (from 1).
    pub seq: u32,
    /// Destination member ids (uplink only); `None` means every subscriber.
    pub destinations: Option<Vec<String>>,
    /// The application payload.
    pub payload: Vec<u8>,
}

impl DataFrame {
    /// Decodes a frame; `None` for anything malformed (wrong version, unknown flags, handle 0,
    /// truncated destination list, invalid UTF-8, payload over 64 KiB).
    pub fn decode(buf: &[u8]) -> Option<DataFrame> {
        let head = buf.get(..8)?;
        if head[0] != DATA_FRAME_VERSION {
            return None;
        }
        let flags = head[1];
        if flags & !FLAG_DESTINATIONS != 0 {
            return None;
        }
        let handle = u16::from_be_bytes([head[2], head[3]]);
        if handle == 0 {
            return None;
        }
        let seq = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        let mut pos = 8;
        let destinations = if flags & FLAG_DESTINATIONS != 0 {
            let n = *buf.get(pos)? as usize;
            pos += 1;
            let mut list = Vec::with_capacity(n);
            for _ in 0..n {
                let len = *buf.get(pos)? as usize;
                pos += 1;
                let raw = buf.get(pos..pos + len)?;
                pos += len;
                list.push(std::str::from_utf8(raw).ok()?.to_owned());
            }
            Some(list)
        } else {
            None
        };
        let payload = buf.get(pos..)?;
        if payload.len() > MAX_PAYLOAD {
            return None;
        }
        Some(DataFrame {
            handle,
            seq,
            destinations,
            payload: payload.to_vec(),
        })
    }

    /// Encodes the frame (with its destination list when present; ids longer than 255 bytes or
    /// more than 255 ids are truncated to fit the format).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + self.payload.len());
        out.push(DATA_FRAME_VERSION);
        out.push(if self.destinations.is_some() {
            FLAG_DESTINATIONS
        } else {
            0
        });
        out.extend_from_slice(&self.handle.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        if let Some(list) = &self.destinations {
            let n = list.len().min(255);
            out.push(n as u8);
            for id in list.iter().take(n) {
                let mut end = id.len().min(255);
                while !id.is_char_boundary(end) {
                    end -= 1;
                }
                out.push(end as u8);
                out.extend_from_slice(&id.as_bytes()[..end]);
            }
        }
        out.extend_from_slice(&self.payload);
        out
    }

    /// Encodes the downlink form: same handle and seq, no destination list.
    pub fn encode_downlink(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.payload.len());
        out.push(DATA_FRAME_VERSION);
        out.push(0);
        out.extend_from_slice(&self.handle.to_be_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_destinations() {
        let f = DataFrame {
            handle: 7,
            seq: 1,
            destinations: Some(vec!["mem_a".into(), "mem_b".into()]),
            payload: b"hello".to_vec(),
        };
        let bytes = f.encode();
        assert_eq!(bytes[0], 1);
        assert_eq!(bytes[1], 1);
        assert_eq!(DataFrame::decode(&bytes), Some(f.clone()));
        let down = DataFrame::decode(&f.encode_downlink()).expect("downlink decodes");
        assert_eq!(down.destinations, None);
        assert_eq!(down.payload, b"hello");
        assert_eq!(down.handle, 7);
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(DataFrame::decode(&[]), None);
        assert_eq!(DataFrame::decode(&[2, 0, 0, 1, 0, 0, 0, 1]), None);
        assert_eq!(
            DataFrame::decode(&[1, 0, 0, 0, 0, 0, 0, 1]),
            None,
            "handle 0"
        );
        assert_eq!(
            DataFrame::decode(&[1, 2, 0, 1, 0, 0, 0, 1]),
            None,
            "unknown flag"
        );
        assert_eq!(
            DataFrame::decode(&[1, 1, 0, 1, 0, 0, 0, 1, 1, 9, b'a']),
            None
        );
        assert_eq!(
            DataFrame::decode(&[1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0xff]),
            None
        );
        let ok = DataFrame::decode(&[1, 0, 0, 1, 0, 0, 0, 1]).expect("empty payload is fine");
        assert!(ok.payload.is_empty());
    }
}
