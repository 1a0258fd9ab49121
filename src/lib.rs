//! Convene: a video-room SDK for the browser.
