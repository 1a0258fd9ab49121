//! Layout state → geometry: assigns visible members to the slots of a catalogue layout
//! (from the protocol crate) honouring requested positions, hand raises and hidden
//! video-muted members.

use ovsp::layouts::{layout_spec, CATALOGUE, DEFAULT_LAYOUT};
use ovsp::model::{Layout, LayoutInfo, LayoutLayer};

/// The layout a new room starts with.
pub(crate) const DEFAULT: &str = DEFAULT_LAYOUT;

/// A member that may take a slot, in join order.
pub(crate) struct Candidate {
    pub member_id: String,
    pub requested: Option<String>,
    pub handraised: bool,
    pub video_muted: bool,
}

/// Whether the catalogue has `name`.
pub(crate) fn exists(name: &str) -> bool {
    layout_spec(name).is_some()
}

/// The `layout.list` items.
pub(crate) fn list() -> Vec<LayoutInfo> {
    CATALOGUE.iter().map(|s| s.info()).collect()
}

/// Whether a position value is well formed.
pub(crate) fn valid_position(p: &str) -> bool {
    ovsp::layouts::is_valid_position(p)
}

/// Rounds down to 4 decimals: shorter frames for big rooms, and a rounded rectangle never
/// leaves the 0..1 canvas.
fn floor4(v: f64) -> f64 {
    (v * 10_000.0).floor() / 10_000.0
}

/// Computes the layout's layers.
pub(crate) fn compute(
    name: &str,
    candidates: &[Candidate],
    hide_video_muted: bool,
    prioritize_handraise: bool,
) -> Layout {
    let Some(spec) = layout_spec(name).or_else(|| layout_spec(DEFAULT_LAYOUT)) else {
        return Layout {
            name: name.to_string(),
            layers: vec![],
        };
    };
    let mut eligible: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.requested.as_deref() != Some("off-canvas"))
        .filter(|c| !(hide_video_muted && c.video_muted))
        .collect();
    if prioritize_handraise {
        eligible.sort_by_key(|c| !c.handraised);
    }
    let n = eligible.len().min(spec.capacity());
    let names = spec.slot_names(n);
    let rects = spec.geometry(n);
    let mut slots: Vec<Option<&Candidate>> = vec![None; names.len().min(rects.len())];
    let mut placed = vec![false; eligible.len()];
    // Explicit requests first.
    for (i, c) in eligible.iter().enumerate() {
        let Some(req) = c.requested.as_deref() else {
            continue;
        };
        let wanted = match req {
            "full-screen" => names.first().map(String::as_str),
            "auto" | "playback" => None,
            other => Some(other),
        };
        if let Some(slot) = wanted.and_then(|w| names.iter().position(|n| n == w)) {
            if slot < slots.len() && slots[slot].is_none() {
                slots[slot] = Some(c);
                placed[i] = true;
            }
        }
    }
    // Then everyone else, in order, into the free slots.
    let mut free = (0..slots.len())
        .filter(|s| slots[*s].is_none())
        .collect::<Vec<_>>()
        .into_iter();
    for (i, c) in eligible.iter().enumerate() {
        if placed[i] {
            continue;
        }
        let Some(slot) = free.next() else { break };
        slots[slot] = Some(c);
    }
    let layers = slots
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let c = (*c)?;
            let r = rects.get(i)?;
            Some(LayoutLayer {
                member_id: Some(c.member_id.clone()),
                position: names.get(i)?.clone(),
                x: floor4(r.x),
                y: floor4(r.y),
                width: floor4(r.width),
                height: floor4(r.height),
                z: 0,
            })
        })
        .collect();
    Layout {
        name: spec.name.to_string(),
        layers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, req: Option<&str>, hand: bool, vm: bool) -> Candidate {
        Candidate {
            member_id: id.into(),
            requested: req.map(str::to_string),
            handraised: hand,
            video_muted: vm,
        }
    }

    #[test]
    fn fills_in_order_and_respects_requests() {
        let c = vec![
            cand("a", None, false, false),
            cand("b", Some("standard-1"), false, false),
            cand("c", Some("off-canvas"), false, false),
        ];
        let l = compute("2x2", &c, false, false);
        assert_eq!(l.layers.len(), 2);
        assert_eq!(l.layers[0].member_id.as_deref(), Some("b"));
        assert_eq!(l.layers[0].position, "standard-1");
        assert_eq!(l.layers[1].member_id.as_deref(), Some("a"));
        for layer in &l.layers {
            assert!(layer.x >= 0.0 && layer.x + layer.width <= 1.0 + 1e-9);
        }
    }

    #[test]
    fn hand_raise_and_hidden_video() {
        let c = vec![
            cand("a", None, false, true),
            cand("b", None, true, false),
            cand("c", None, false, false),
        ];
        let l = compute("grid-responsive", &c, true, true);
        let ids: Vec<_> = l
            .layers
            .iter()
            .filter_map(|x| x.member_id.clone())
            .collect();
        assert_eq!(ids, vec!["b", "c"]);
        let l = compute("1x1", &c, false, false);
        assert_eq!(l.layers.len(), 1);
    }
}
