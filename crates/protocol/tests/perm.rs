//! Permission matching, the self/member rule, and consistency of the permission catalogue
//! with the METHODS table.

use ovsp::json::json;
use ovsp::methods::PermRule;
use ovsp::perm::{
    has_permission, missing_permission, permission_matches, publish_allowed, required_permission,
    required_permissions, ALL_PERMISSIONS,
};
use ovsp::METHODS;
use proptest::prelude::*;

#[test]
fn wildcard_table() {
    let table: &[(&str, &str, bool)] = &[
        ("*", "room.member.remove", true),
        ("*", "room.lock", true),
        ("room.member.*", "room.member.remove", true),
        ("room.member.*", "room.member.audio_mute", true),
        ("room.member.*", "room.member", false),
        ("room.member.*", "room.members.remove", false),
        ("room.member.*", "room.self.audio_mute", false),
        ("room.*", "room.member.remove", true),
        ("room.*", "room.lock", true),
        ("room.*", "room", false),
        ("room.playback.*", "room.playback.seek", true),
        ("room.playback.*", "room.playback", false),
        ("room.playback", "room.playback.seek", false),
        ("room.lock", "room.lock", true),
        ("room.lock", "room.unlock", false),
        ("room.lock", "room.locked", false),
        ("room.self.*", "room.self.audio_mute", true),
        ("room.self.*", "room.member.audio_mute", false),
        ("room.member.remove", "room.member.*", false),
        ("", "room.lock", false),
        (".*", "room.lock", false),
        ("room.*", "room.", false),
    ];
    for (granted, required, want) in table {
        assert_eq!(
            permission_matches(granted, required),
            *want,
            "{granted} vs {required}"
        );
    }
}

/// Reference model of the matching rule, by segments.
fn model(granted: &str, required: &str) -> bool {
    if granted == "*" {
        return true;
    }
    let g: Vec<&str> = granted.split('.').collect();
    let r: Vec<&str> = required.split('.').collect();
    if g.last() == Some(&"*") {
        let prefix = &g[..g.len() - 1];
        return r.len() > prefix.len()
            && r[..prefix.len()] == *prefix
            && r[prefix.len()..].iter().all(|s| !s.is_empty());
    }
    g == r
}

fn dotted() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["room", "member", "self", "a", "b"]),
        1..5,
    )
    .prop_map(|v| v.join("."))
}

fn granted() -> impl Strategy<Value = String> {
    prop_oneof![
        dotted(),
        dotted().prop_map(|s| format!("{s}.*")),
        Just("*".to_string()),
    ]
}

proptest! {
    #[test]
    fn matching_agrees_with_segment_model(g in granted(), r in dotted()) {
        prop_assert_eq!(permission_matches(&g, &r), model(&g, &r));
    }

    #[test]
    fn wildcard_covers_every_extension(base in dotted(), ext in dotted()) {
        let required = format!("{base}.{ext}");
        let wildcard = format!("{base}.*");
        prop_assert!(permission_matches(&wildcard, &required));
        prop_assert!(!permission_matches(&wildcard, &base));
        prop_assert!(permission_matches(&required, &required));
    }

    #[test]
    fn has_permission_is_any(list in prop::collection::vec(granted(), 0..5), r in dotted()) {
        prop_assert_eq!(has_permission(&list, &r), list.iter().any(|g| permission_matches(g, &r)));
    }

    #[test]
    fn self_member_rule(caller in "mem_[a-z]{1,4}", other in "mem_[a-z]{1,4}", pick in any::<prop::sample::Index>()) {
        let so: Vec<_> = METHODS.iter().filter_map(|m| match m.permission {
            PermRule::SelfOrMember(s) => Some((m.name, s)),
            _ => None,
        }).collect();
        let (method, suffix) = *pick.get(&so);
        let own = format!("room.self.{suffix}");
        let theirs = format!("room.member.{suffix}");
        // No target, or yourself: room.self.*
        prop_assert_eq!(required_permission(method, &caller, None), Some(own.clone()));
        prop_assert_eq!(required_permission(method, &caller, Some(&caller)), Some(own.clone()));
        prop_assert_eq!(required_permissions(method, &caller, &json!({})), vec![own.clone()]);
        prop_assert_eq!(required_permissions(method, &caller, &json!({"member_id": caller})), vec![own.clone()]);
        // Someone else: room.member.*
        let want = if other == caller { own.clone() } else { theirs.clone() };
        prop_assert_eq!(required_permission(method, &caller, Some(&other)), Some(want.clone()));
        prop_assert_eq!(required_permissions(method, &caller, &json!({"member_id": other})), vec![want.clone()]);
        // room.self.* never grants acting on others; room.member.* never grants self.
        let self_only = vec!["room.self.*".to_string()];
        let member_only = vec!["room.member.*".to_string()];
        let none = json!({});
        let target_other = json!({"member_id": other});
        let self_ok = missing_permission(&self_only, method, &caller, &none).is_none();
        prop_assert!(self_ok);
        prop_assert_eq!(missing_permission(&member_only, method, &caller, &none), Some(own));
        if other != caller {
            prop_assert_eq!(missing_permission(&self_only, method, &caller, &target_other), Some(theirs));
            let member_ok = missing_permission(&member_only, method, &caller, &target_other).is_none();
            prop_assert!(member_ok);
        }
    }
}

#[test]
fn self_member_table() {
    let rows: &[(&str, Option<&str>, &str)] = &[
        ("member.audio_mute", None, "room.self.audio_mute"),
        ("member.audio_mute", Some("mem_a"), "room.self.audio_mute"),
        ("member.audio_mute", Some("mem_b"), "room.member.audio_mute"),
        (
            "member.video_unmute",
            Some("mem_b"),
            "room.member.video_unmute",
        ),
        ("member.deaf", None, "room.self.deaf"),
        ("member.lower_hand", Some("mem_b"), "room.member.raise_hand"),
        ("member.set_meta", Some("mem_b"), "room.member.set_meta"),
        ("member.delete_meta", None, "room.self.set_meta"),
        (
            "member.set_position",
            Some("mem_b"),
            "room.member.set_position",
        ),
        ("member.remove", Some("mem_a"), "room.member.remove"),
        ("member.remove", Some("mem_b"), "room.member.remove"),
        ("room.lock", None, "room.lock"),
    ];
    for (method, target, want) in rows {
        assert_eq!(
            required_permission(method, "mem_a", *target).as_deref(),
            Some(*want),
            "{method} {target:?}"
        );
    }
    assert_eq!(required_permission("ping", "mem_a", None), None);
    assert_eq!(required_permission("track.publish", "mem_a", None), None);
    assert_eq!(required_permission("no.such", "mem_a", None), None);
}

#[test]
fn params_dependent_permissions() {
    let p = |m: &str, v: ovsp::json::Value| required_permissions(m, "mem_a", &v);
    assert_eq!(
        p("room.set_hide_video_muted", json!({"value": true})),
        ["room.hide_video_muted"]
    );
    assert_eq!(
        p("room.set_hide_video_muted", json!({"value": false})),
        ["room.show_video_muted"]
    );
    assert_eq!(p("layout.set", json!({"name": "2x2"})), ["room.set_layout"]);
    assert_eq!(
        p(
            "layout.set",
            json!({"name": "2x2", "positions": {"mem_b": "standard-1"}})
        ),
        ["room.set_layout", "room.set_position"]
    );
    assert_eq!(
        p(
            "room.configure",
            json!({"hide_video_muted": false, "max_members": 4})
        ),
        ["room.configure", "room.show_video_muted"]
    );
    assert_eq!(
        p(
            "room.configure",
            json!({"prioritize_handraise": true, "default_layout": "5up"})
        ),
        [
            "room.configure",
            "room.prioritize_handraise",
            "room.set_layout"
        ]
    );
    assert_eq!(p("ping", json!({"ts": 1})), Vec::<String>::new());
    let granted = vec!["room.configure".to_string()];
    assert_eq!(
        missing_permission(
            &granted,
            "room.configure",
            "mem_a",
            &json!({"hide_video_muted": true})
        ),
        Some("room.hide_video_muted".to_string())
    );
}

#[test]
fn publish_rule() {
    use ovsp::model::MediaSource;
    assert!(publish_allowed(&[], MediaSource::Camera));
    assert!(publish_allowed(
        &["room.self.*".into()],
        MediaSource::Camera
    ));
    let only_mic = vec!["room.publish.microphone".to_string()];
    assert!(publish_allowed(&only_mic, MediaSource::Microphone));
    assert!(!publish_allowed(&only_mic, MediaSource::Camera));
    assert!(publish_allowed(
        &["room.publish.*".into()],
        MediaSource::Screen
    ));
}

#[test]
fn every_method_permission_is_in_the_catalogue() {
    let known = |p: &str| ALL_PERMISSIONS.contains(&p);
    for m in METHODS {
        match m.permission {
            PermRule::Fixed(p) => assert!(known(p), "{}: {p}", m.name),
            PermRule::SelfOrMember(s) => {
                assert!(known(&format!("room.self.{s}")), "{}", m.name);
                assert!(known(&format!("room.member.{s}")), "{}", m.name);
            }
            PermRule::Toggle { on, off, .. } => assert!(known(on) && known(off), "{}", m.name),
            _ => {}
        }
        for e in m.extra {
            assert!(known(e.when_set) && known(e.when_false), "{}", m.name);
        }
    }
    let mut sorted = ALL_PERMISSIONS.to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        ALL_PERMISSIONS.len(),
        "catalogue has duplicates"
    );
}
