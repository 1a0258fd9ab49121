//! The access token's claims.
//!
//! The token is a JWT (HS256 or ES256, `kid` naming the API key). Signing and verification
//! are the server's job; this module only defines the claims, with the OVSP grant in the
//! namespaced `ovsp` claim.

use crate::prelude::*;
use serde::{Deserialize, Serialize};

use crate::json::Wire;

use crate::model::{MediaAllowed, Meta, Role};

/// The JWT audience OVSP tokens carry.
pub const AUDIENCE: &str = "ovsp";

/// The version of the `ovsp` claim defined here.
pub const GRANT_VERSION: u32 = 1;

/// Settings for a room created by `auto_create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoomConfig {
    /// Maximum members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    /// Enforce an access list from the start.
    #[serde(default)]
    pub acl: bool,
    /// Initial layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_layout: Option<String>,
}

/// The `ovsp` claim: what the bearer may do in one room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OvspGrant {
    /// Claim version (1).
    #[serde(default = "grant_version")]
    pub v: u32,
    /// Room name. Required.
    pub room: String,
    /// Create the room on join if it does not exist.
    #[serde(default)]
    pub auto_create: bool,
    /// Settings when creating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_config: Option<RoomConfig>,
    /// Initial room meta when creating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_meta: Option<Meta>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether `room.join` may override the name.
    #[serde(default)]
    pub name_editable: bool,
    /// Role.
    #[serde(default)]
    pub role: Role,
    /// Permission strings.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Media rights; absent means everything for a member (see
    /// [`OvspGrant::effective_media_allowed`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_allowed: Option<MediaAllowed>,
    /// Join with audio muted.
    #[serde(default)]
    pub join_audio_muted: bool,
    /// Join with video muted.
    #[serde(default)]
    pub join_video_muted: bool,
    /// Initial member meta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// End the room when this member leaves.
    #[serde(default)]
    pub end_room_on_leave: bool,
}

fn grant_version() -> u32 {
    GRANT_VERSION
}

impl OvspGrant {
    /// A grant for `room` with role `member`, no permissions and default media rights.
    pub fn new(room: impl Into<String>) -> Self {
        OvspGrant {
            v: GRANT_VERSION,
            room: room.into(),
            auto_create: false,
            room_config: None,
            room_meta: None,
            name: None,
            name_editable: false,
            role: Role::Member,
            permissions: Vec::new(),
            media_allowed: None,
            join_audio_muted: false,
            join_video_muted: false,
            meta: None,
            end_room_on_leave: false,
        }
    }

    /// The media rights in effect: the token's, or everything when absent. Audience members
    /// never send, whatever the token says.
    pub fn effective_media_allowed(&self) -> MediaAllowed {
        let mut m = self.media_allowed.clone().unwrap_or_else(MediaAllowed::all);
        if self.role == Role::Audience {
            m.send.clear();
        }
        m
    }
}

/// The JWT claims of an OVSP access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Claims {
    /// Issuer: the API key id (same as the header's `kid`).
    pub iss: String,
    /// Subject: the identity, unique per room.
    pub sub: String,
    /// Audience (`ovsp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Issued at (seconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Expiry (seconds).
    pub exp: u64,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The OVSP grant.
    pub ovsp: OvspGrant,
}

/// The JWT header fields OVSP uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Wire)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Header {
    /// `HS256` or `ES256` (`none` is always rejected).
    pub alg: String,
    /// `JWT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// API key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
}
