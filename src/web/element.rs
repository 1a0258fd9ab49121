//! Attaching tracks to `<video>` / `<audio>` elements, autoplay handling and output devices.

use super::error::WebError;
use super::js;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlMediaElement, MediaStreamTrack};

/// Result of starting playback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayOutcome {
    /// Playing.
    Playing,
    /// The browser's autoplay policy blocked playback until a user gesture; call
    /// [`Attachment::play`] again from a click handler.
    AutoplayBlocked,
    /// Playback failed for another reason.
    Failed(WebError),
}

/// A track shown in an element. Dropping it detaches the track (and removes the element if
/// this attachment created it).
pub struct Attachment {
    el: HtmlMediaElement,
    created: bool,
}

impl Attachment {
    /// Shows `track` in `el`, or in a new `<video>`/`<audio>` element (autoplay, playsinline;
    /// local previews are muted and mirrored by the caller if wanted).
    pub fn new(track: &MediaStreamTrack, el: Option<HtmlMediaElement>) -> Result<Self, WebError> {
        let created = el.is_none();
        let el = match el {
            Some(e) => e,
            None => {
                let doc = js::get(&js_sys::global(), "document");
                if !doc.is_object() {
                    return Err(WebError::new("NotSupportedError", "no document"));
                }
                let tag = if track.kind() == "audio" {
                    "audio"
                } else {
                    "video"
                };
                let e: HtmlMediaElement = create(&doc, tag)?.unchecked_into();
                let _ = e.set_attribute("playsinline", "");
                e
            }
        };
        let stream = stream_of(track)?;
        el.set_autoplay(true);
        js::set(&el, "srcObject", &stream);
        Ok(Attachment { el, created })
    }

    /// The element.
    pub fn element(&self) -> &HtmlMediaElement {
        &self.el
    }

    /// Starts playback; reports an autoplay block instead of failing.
    pub async fn play(&self) -> PlayOutcome {
        play(&self.el).await
    }

    /// Routes the element's audio to output device `sink_id` (`setSinkId`).
    pub async fn set_sink_id(&self, sink_id: &str) -> Result<(), WebError> {
        set_sink_id(&self.el, sink_id).await
    }
}

/// Starts playback of `el`; reports an autoplay block instead of failing.
pub async fn play(el: &HtmlMediaElement) -> PlayOutcome {
    let p = match play_promise(el) {
        Ok(p) => p,
        Err(e) => return PlayOutcome::Failed(e.into()),
    };
    match JsFuture::from(p).await {
        Ok(_) => PlayOutcome::Playing,
        Err(e) => {
            let e = WebError::from(e);
            if e.name == "NotAllowedError" {
                PlayOutcome::AutoplayBlocked
            } else {
                PlayOutcome::Failed(e)
            }
        }
    }
}

/// Routes `el`'s audio to output device `sink_id`; NotSupportedError where the browser
/// lacks `setSinkId`.
pub async fn set_sink_id(el: &HtmlMediaElement, sink_id: &str) -> Result<(), WebError> {
    JsFuture::from(sink_promise(el, sink_id)?)
        .await
        .map(|_| ())
        .map_err(WebError::from)
}

/// Starts [`set_sink_id`]; the promise settles when the output device is set.
pub fn sink_promise(el: &HtmlMediaElement, sink_id: &str) -> Result<js_sys::Promise, WebError> {
    if !js::get(el, "setSinkId").is_function() {
        return Err(WebError::new(
            "NotSupportedError",
            "setSinkId is not supported",
        ));
    }
    let p = js::call(el, "setSinkId", &[&sink_id.into()])?;
    Ok(js_sys::Promise::resolve(&p))
}

/// A new `<tag>` element of `doc` (`document.createElement`).
pub fn create(doc: &JsValue, tag: &str) -> Result<JsValue, JsValue> {
    js::call(doc, "createElement", &[&tag.into()])
}

/// `new MediaStream([track])`, what an element's `srcObject` shows. The element, stream and
/// track members are used by name (`srcObject`, `play`, `muted`, `enabled`, ...) through the
/// one dynamic path of [`js`], not through an import each.
pub fn stream_of(track: &JsValue) -> Result<JsValue, JsValue> {
    js::construct("MediaStream", &[&js::array(&[track])])
}

/// `el.play()`: the promise that settles when playback starts.
pub fn play_promise(el: &JsValue) -> Result<js_sys::Promise, JsValue> {
    js::call(el, "play", &[]).map(JsCast::unchecked_into)
}

impl Drop for Attachment {
    fn drop(&mut self) {
        js::set(&self.el, "srcObject", &JsValue::NULL);
        if self.created {
            self.el.remove();
        }
    }
}
