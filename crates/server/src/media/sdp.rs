//! A light textual pre-check of remote SDP before it reaches str0m.
//!
//! str0m validates SDP itself; this scan exists to answer two questions str0m does not expose
//! (which mids an offer has, and of which kind) and to reject, with 53403, descriptions that
//! would otherwise close a PeerConnection as a side effect (no fingerprint, no ICE credentials).

/// Largest SDP accepted (the protocol's frame limit).
pub(crate) const MAX_SDP_BYTES: usize = 256 * 1024;

/// One m-section of a scanned SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    /// `audio`, `video`, `application`, …
    pub kind: String,
    /// Its `a=mid`, when present.
    pub mid: Option<String>,
}

/// Result of scanning an SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    /// The m-sections in order.
    pub sections: Vec<Section>,
}

impl Scan {
    /// The kind of the m-section with this mid.
    pub fn kind_of(&self, mid: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|s| s.mid.as_deref() == Some(mid))
            .map(|s| s.kind.as_str())
    }
}

/// Scans `sdp`; `Err` carries a human-readable reason for 53403.
pub(crate) fn scan(sdp: &str) -> Result<Scan, String> {
    if sdp.len() > MAX_SDP_BYTES {
        return Err("SDP too large".into());
    }
    if !sdp.starts_with("v=0") {
        return Err("SDP must start with v=0".into());
    }
    let mut sections: Vec<Section> = Vec::new();
    let mut fingerprint = false;
    let mut ufrag = false;
    let mut pwd = false;
    for line in sdp.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(rest) = line.strip_prefix("m=") {
            let kind = rest.split(' ').next().unwrap_or_default().to_owned();
            sections.push(Section { kind, mid: None });
        } else if let Some(mid) = line.strip_prefix("a=mid:") {
            if let Some(last) = sections.last_mut() {
                last.mid = Some(mid.trim().to_owned());
            }
        } else if line.starts_with("a=fingerprint:") {
            fingerprint = true;
        } else if line.starts_with("a=ice-ufrag:") {
            ufrag = true;
        } else if line.starts_with("a=ice-pwd:") {
            pwd = true;
        }
    }
    if sections.is_empty() {
        return Err("SDP has no m-sections".into());
    }
    if !fingerprint {
        return Err("SDP has no a=fingerprint".into());
    }
    if !ufrag || !pwd {
        return Err("SDP has no ICE credentials".into());
    }
    Ok(Scan { sections })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=fingerprint:sha-256 AA\r\na=ice-ufrag:abcd\r\na=ice-pwd:efghefghefghefghefghefgh\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n";

    #[test]
    fn finds_mids_and_kinds() {
        let s = scan(OFFER).expect("valid");
        assert_eq!(s.kind_of("0"), Some("audio"));
        assert_eq!(s.kind_of("1"), Some("video"));
        assert_eq!(s.kind_of("2"), None);
    }

    #[test]
    fn rejects_garbage() {
        assert!(scan("").is_err());
        assert!(scan("hello").is_err());
        assert!(scan("v=0\r\n").is_err());
        assert!(scan(&OFFER.replace("a=fingerprint", "a=x")).is_err());
        assert!(scan(&OFFER.replace("a=ice-pwd", "a=x")).is_err());
    }
}
