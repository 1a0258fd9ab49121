//! Permission strings: wildcard matching, the self/member rule, and the catalogue.
//!
//! Permissions are dotted strings. A granted string ending in `.*` matches one or more
//! further segments (`room.member.*` matches `room.member.remove` but not `room.member`);
//! `*` alone matches everything.

use crate::json::Value;
use crate::prelude::*;

use crate::methods::{method_info, PermRule};

/// Whether one granted string covers the required one.
pub fn permission_matches(granted: &str, required: &str) -> bool {
    if granted == "*" {
        return true;
    }
    if let Some(prefix) = granted.strip_suffix(".*") {
        return match required.strip_prefix(prefix) {
            Some(rest) => rest.len() > 1 && rest.starts_with('.'),
            None => false,
        };
    }
    granted == required
}

/// Whether any of the granted strings covers the required one.
pub fn has_permission(granted: &[String], required: &str) -> bool {
    granted.iter().any(|g| permission_matches(g, required))
}

/// `room.self.<suffix>` when the target is the caller (no target, or the caller's own id),
/// `room.member.<suffix>` otherwise.
pub fn self_or_member(suffix: &str, caller_id: &str, target_member_id: Option<&str>) -> String {
    match target_member_id {
        None => format!("room.self.{suffix}"),
        Some(t) if t == caller_id => format!("room.self.{suffix}"),
        Some(_) => format!("room.member.{suffix}"),
    }
}

/// The permission string a method needs, from the method's rule in [`crate::METHODS`].
///
/// Returns `None` for unknown methods and for rules that are not a single permission string
/// (`None`, `Token`, `Publish`, `Owner`, `MemberRole`: the server checks those itself).
/// For a `Toggle` rule this returns the `on` string; use [`required_permissions`], which
/// reads the params, to get the exact string.
pub fn required_permission(
    method: &str,
    caller_id: &str,
    target_member_id: Option<&str>,
) -> Option<String> {
    match method_info(method)?.permission {
        PermRule::Fixed(p) => Some(p.to_string()),
        PermRule::SelfOrMember(suffix) => Some(self_or_member(suffix, caller_id, target_member_id)),
        PermRule::Toggle { on, .. } => Some(on.to_string()),
        PermRule::None
        | PermRule::Token
        | PermRule::Publish
        | PermRule::Owner
        | PermRule::MemberRole => None,
    }
}

/// Every permission string a request needs, in check order, from its method rule and its
/// params (the `member_id` of self/member rules, the field of toggles, and extra
/// permissions triggered by params fields). Unknown methods need nothing here (they fail
/// with −32601 anyway).
pub fn required_permissions(method: &str, caller_id: &str, params: &Value) -> Vec<String> {
    let Some(info) = method_info(method) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match info.permission {
        PermRule::Fixed(p) => out.push(p.to_string()),
        PermRule::SelfOrMember(suffix) => {
            let target = params.get("member_id").and_then(Value::as_str);
            out.push(self_or_member(suffix, caller_id, target));
        }
        PermRule::Toggle { field, on, off } => {
            let v = params.get(field).and_then(Value::as_bool).unwrap_or(true);
            out.push(if v { on } else { off }.to_string());
        }
        PermRule::None
        | PermRule::Token
        | PermRule::Publish
        | PermRule::Owner
        | PermRule::MemberRole => {}
    }
    for extra in info.extra {
        match params.get(extra.field) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(false)) => out.push(extra.when_false.to_string()),
            Some(_) => out.push(extra.when_set.to_string()),
        }
    }
    out
}

/// The first required permission the caller lacks, if any (the `data.permission` of 54100).
pub fn missing_permission(
    granted: &[String],
    method: &str,
    caller_id: &str,
    params: &Value,
) -> Option<String> {
    required_permissions(method, caller_id, params)
        .into_iter()
        .find(|p| !has_permission(granted, p))
}

/// The permission for publishing a source: `room.publish.<source>`. It is only enforced when
/// the caller's permissions list some `room.publish.*` string (see [`publish_allowed`]).
pub fn publish_permission(source: crate::model::MediaSource) -> String {
    format!("room.publish.{}", source.as_str())
}

/// Whether the `room.publish.<source>` rule allows publishing `source`: true when the caller's
/// permissions name no `room.publish.` string at all (then `media_allowed.send` alone
/// governs), otherwise the matching string must be granted. A bare `*` does not count as
/// listing publish permissions.
pub fn publish_allowed(granted: &[String], source: crate::model::MediaSource) -> bool {
    let lists_publish = granted.iter().any(|g| g.starts_with("room.publish."));
    !lists_publish || has_permission(granted, &publish_permission(source))
}

/// The permission catalogue of OVSP v1.
pub const ALL_PERMISSIONS: &[&str] = &[
    "room.self.audio_mute",
    "room.self.audio_unmute",
    "room.self.video_mute",
    "room.self.video_unmute",
    "room.self.deaf",
    "room.self.undeaf",
    "room.self.set_input_volume",
    "room.self.set_output_volume",
    "room.self.set_input_sensitivity",
    "room.self.set_position",
    "room.self.set_meta",
    "room.self.raise_hand",
    "room.member.audio_mute",
    "room.member.audio_unmute",
    "room.member.video_mute",
    "room.member.video_unmute",
    "room.member.deaf",
    "room.member.undeaf",
    "room.member.set_input_volume",
    "room.member.set_output_volume",
    "room.member.set_input_sensitivity",
    "room.member.set_position",
    "room.member.set_meta",
    "room.member.raise_hand",
    "room.member.remove",
    "room.member.promote",
    "room.member.demote",
    "room.member.set_permissions",
    "room.lock",
    "room.unlock",
    "room.end",
    "room.configure",
    "room.set_layout",
    "room.set_position",
    "room.list_available_layouts",
    "room.hide_video_muted",
    "room.show_video_muted",
    "room.prioritize_handraise",
    "room.set_meta",
    "room.recording",
    "room.playback",
    "room.playback.seek",
    "room.stream",
    "room.stream.start",
    "room.stream.stop",
    "room.subscribe",
    "room.message.send",
    "room.acl.manage",
    "room.publish.microphone",
    "room.publish.camera",
    "room.publish.screen",
    "room.publish.screen_audio",
    "room.publish.data",
    "room.publish.custom",
];
