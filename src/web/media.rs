//! Local media: cameras, microphones, screens, the device list and unplugged devices.

use super::error::{MediaError, WebError};
use super::js;
use super::listener::{Hook, Listener};
use crate::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaDeviceKind, MediaDevices, MediaStream, MediaStreamTrack};

/// Where a local track comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A camera (`getUserMedia` video).
    Camera,
    /// A microphone (`getUserMedia` audio).
    Microphone,
    /// A screen, window or tab (`getDisplayMedia` video).
    Screen,
    /// The audio of a shared screen or tab.
    ScreenAudio,
    /// A track the application provided.
    Custom,
}

impl Source {
    /// "audio" or "video".
    pub fn kind(self) -> &'static str {
        match self {
            Source::Microphone | Source::ScreenAudio => "audio",
            _ => "video",
        }
    }
}

/// What to acquire: `audio` / `video` are `MediaTrackConstraints` objects, `true`, or
/// `undefined` (not wanted). A `device_id` string is turned into `{deviceId: {exact}}`.
#[derive(Debug, Clone, Default)]
pub struct MediaRequest {
    /// Audio constraints (`undefined` = no audio).
    pub audio: JsValue,
    /// Video constraints (`undefined` = no video).
    pub video: JsValue,
}

impl MediaRequest {
    /// A camera with the given device (or any).
    pub fn camera(device_id: Option<&str>) -> Self {
        MediaRequest {
            audio: JsValue::UNDEFINED,
            video: device_constraint(device_id),
        }
    }

    /// A microphone with the given device (or any).
    pub fn microphone(device_id: Option<&str>) -> Self {
        MediaRequest {
            audio: device_constraint(device_id),
            video: JsValue::UNDEFINED,
        }
    }
}

/// `true`, or `{deviceId: {exact: id}}`.
pub fn device_constraint(device_id: Option<&str>) -> JsValue {
    match device_id {
        None => JsValue::TRUE,
        Some(id) => {
            let exact = js::object();
            js::set_str(&exact, "exact", id);
            let o = js::object();
            js::set(&o, "deviceId", &exact);
            o.into()
        }
    }
}

/// `navigator.mediaDevices` (missing outside a secure context).
fn devices_api() -> Result<MediaDevices, MediaError> {
    let md = js::get(&js::get(&js_sys::global(), "navigator"), "mediaDevices");
    if md.is_object() {
        Ok(md.unchecked_into())
    } else {
        Err(MediaError::Unsupported)
    }
}

/// Starts `getUserMedia`; the promise resolves to a `MediaStream` (see [`stream_tracks`]).
pub fn user_media_promise(req: &MediaRequest) -> Result<js_sys::Promise, MediaError> {
    media_promise(false, &req.audio, &req.video)
}

/// Starts `getDisplayMedia` for `video` constraints (`undefined`: any screen) and, when
/// `audio`, its audio; the promise resolves to a `MediaStream` (see [`stream_tracks`]).
pub fn display_media_promise(video: &JsValue, audio: bool) -> Result<js_sys::Promise, MediaError> {
    let video = if video.is_undefined() {
        JsValue::TRUE
    } else {
        video.clone()
    };
    media_promise(true, &JsValue::from_bool(audio), &video)
}

/// `getDisplayMedia` (`display`) or `getUserMedia` with `{audio, video}`.
#[inline(never)]
fn media_promise(
    display: bool,
    audio: &JsValue,
    video: &JsValue,
) -> Result<js_sys::Promise, MediaError> {
    let c = js::object();
    js::set(&c, "audio", audio);
    js::set(&c, "video", video);
    let md = devices_api()?;
    let method = if display {
        "getDisplayMedia"
    } else {
        "getUserMedia"
    };
    if !js::get(&md, method).is_function() {
        return Err(MediaError::Unsupported);
    }
    Ok(js::call(&md, method, &[&c])?.unchecked_into())
}

/// Waits for a `MediaStream` promise; returns its tracks, those of kind `first` ("audio" or
/// "video") before the others, each group in the stream's order.
pub async fn stream_tracks(
    p: js_sys::Promise,
    first: &str,
) -> Result<Vec<MediaStreamTrack>, MediaError> {
    let s = JsFuture::from(p).await?;
    Ok(tracks_of(&s, first))
}

/// The tracks of the `MediaStream` `s`, those of kind `first` before the others.
pub fn tracks_of(s: &JsValue, first: &str) -> Vec<MediaStreamTrack> {
    let s: &MediaStream = s.unchecked_ref();
    let (mut out, mut rest) = (Vec::new(), Vec::new());
    for t in s.get_tracks().iter() {
        let t: MediaStreamTrack = t.unchecked_into();
        if t.kind() == first {
            out.push(t);
        } else {
            rest.push(t);
        }
    }
    out.append(&mut rest);
    out
}

/// `getUserMedia`: returns the acquired tracks (audio first).
pub async fn user_media(req: &MediaRequest) -> Result<Vec<MediaStreamTrack>, MediaError> {
    stream_tracks(user_media_promise(req)?, "audio").await
}

/// `getDisplayMedia`: the screen's video track, then its audio when asked for and granted.
pub async fn display_media(
    video: &JsValue,
    audio: bool,
) -> Result<Vec<MediaStreamTrack>, MediaError> {
    stream_tracks(display_media_promise(video, audio)?, "video").await
}

/// Kind of a media device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A microphone.
    AudioInput,
    /// A speaker / headset output.
    AudioOutput,
    /// A camera.
    VideoInput,
}

impl DeviceKind {
    /// The browser's name: `audioinput`, `audiooutput`, `videoinput`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::AudioInput => "audioinput",
            DeviceKind::AudioOutput => "audiooutput",
            DeviceKind::VideoInput => "videoinput",
        }
    }
}

/// One entry of `enumerateDevices()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The device id (stable per origin).
    pub device_id: String,
    /// The group id (devices of one physical unit share it).
    pub group_id: String,
    /// Input or output, audio or video.
    pub kind: DeviceKind,
    /// The label (empty until permission was granted).
    pub label: String,
}

/// `enumerateDevices()`.
pub async fn devices() -> Result<Vec<DeviceInfo>, MediaError> {
    let p = devices_api()?.enumerate_devices()?;
    let list: js_sys::Array = JsFuture::from(p).await?.unchecked_into();
    let mut out = Vec::new();
    for d in list.iter() {
        let d: web_sys::MediaDeviceInfo = d.unchecked_into();
        let kind = match d.kind() {
            MediaDeviceKind::Audioinput => DeviceKind::AudioInput,
            MediaDeviceKind::Audiooutput => DeviceKind::AudioOutput,
            MediaDeviceKind::Videoinput => DeviceKind::VideoInput,
            _ => continue,
        };
        out.push(DeviceInfo {
            device_id: d.device_id(),
            group_id: d.group_id(),
            kind,
            label: d.label(),
        });
    }
    Ok(out)
}

/// Watches `devicechange`: calls `h` with `tag` each time the device list changes, until
/// dropped.
pub fn watch_devices(h: &Hook, tag: u32) -> Result<Listener, MediaError> {
    let md = devices_api()?;
    Ok(Listener::hook(md.as_ref(), "devicechange", false, h, tag))
}

/// Starts acquiring a fresh track for `source` with constraints `c` (`true` for defaults):
/// the `MediaStream` promise and the kind of track wanted from it ([`first_track`]).
pub fn acquire_promise(
    source: Source,
    c: JsValue,
) -> Result<(js_sys::Promise, &'static str), MediaError> {
    let display = matches!(source, Source::Screen | Source::ScreenAudio);
    let audio = !display && source.kind() == "audio";
    let (a, v) = if display {
        (JsValue::FALSE, c)
    } else if audio {
        (c, JsValue::UNDEFINED)
    } else {
        (JsValue::UNDEFINED, c)
    };
    let p = media_promise(display, &a, &v)?;
    Ok((p, if audio { "audio" } else { "video" }))
}

/// The first track of kind `first` (else any) of the `MediaStream` `s`; the others are
/// stopped.
pub fn first_track(s: &JsValue, first: &str) -> Result<MediaStreamTrack, MediaError> {
    let all = s.unchecked_ref::<MediaStream>().get_tracks();
    let track = |i| all.get(i).unchecked_into::<MediaStreamTrack>();
    let n = all.length();
    let pick = (0..n).find(|&i| track(i).kind() == first).unwrap_or(0);
    let mut out = None;
    for i in 0..n {
        let t = track(i);
        if i == pick {
            out = Some(t);
        } else {
            t.stop();
        }
    }
    out.ok_or_else(|| MediaError::NotFound(WebError::new("NotFoundError", "no track returned")))
}

/// A local track the SDK owns: stopped when dropped, watched for `ended` (an unplugged device).
pub struct LocalTrack {
    track: MediaStreamTrack,
    source: Source,
    id: u32,
    _ended: Listener,
}

impl LocalTrack {
    /// Takes ownership of `track`; `on_ended` runs if the browser ends it (device unplugged,
    /// permission revoked, screen share stopped from the browser UI).
    pub fn new<F: FnMut() + 'static>(
        track: MediaStreamTrack,
        source: Source,
        mut on_ended: F,
    ) -> Self {
        // The handler property, not addEventListener: Firefox ESR only calls `onended`.
        let ended = Listener::property(track.as_ref(), "onended", move |_| on_ended());
        LocalTrack {
            track,
            source,
            id: 0,
            _ended: ended,
        }
    }

    /// Takes ownership of `track`, known by `id`; `h` is called with `tag` if the browser ends
    /// it.
    pub fn hooked(track: MediaStreamTrack, source: Source, id: u32, h: &Hook, tag: u32) -> Self {
        let ended = Listener::hook(track.as_ref(), "onended", true, h, tag);
        LocalTrack {
            track,
            source,
            id,
            _ended: ended,
        }
    }

    /// The id given to [`LocalTrack::hooked`] (0 for [`LocalTrack::new`]).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The browser track.
    pub fn track(&self) -> &MediaStreamTrack {
        &self.track
    }

    /// Where it came from.
    pub fn source(&self) -> Source {
        self.source
    }

    /// The device it was captured from (from `getSettings()`), if known.
    pub fn device_id(&self) -> Option<String> {
        device_id(&self.track)
    }

    /// Enables or disables the track (a disabled track sends black video / silence).
    pub fn set_enabled(&self, on: bool) {
        js::set(&self.track, "enabled", &on.into());
    }

    /// True while the track is live.
    pub fn is_live(&self) -> bool {
        is_live(&self.track)
    }
}

/// The device `track` was captured from (from `getSettings()`), if known.
pub fn device_id(track: &MediaStreamTrack) -> Option<String> {
    js::get_str(&track.get_settings(), "deviceId")
}

/// True while `track` is live (`readyState` read as a string: web-sys's enum conversion
/// carries a panic path of its own).
pub fn is_live(track: &MediaStreamTrack) -> bool {
    js::get_str(track, "readyState").as_deref() == Some("live")
}

impl Drop for LocalTrack {
    fn drop(&mut self) {
        self.track.stop();
    }
}
