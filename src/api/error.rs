//! Typed errors of the facades: every failure that reaches JavaScript is an [`ApiError`] with a
//! numeric [`Code`], the code's stable name and a message, turned into a real JS `Error` by
//! [`ApiError::to_js`].

use crate::prelude::*;
use convene_core::CoreError;
use ovsp::codes::Code;

/// A failure reported to the application: a rejected promise or an error event argument.
///
/// The details live behind one box ([`ErrorData`], reached through `Deref`), so every
/// `Result<_, ApiError>` stays small and propagating an error with `?` moves one pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(Box<ErrorData>);

/// The details of an [`ApiError`].
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorData {
    /// The numeric code (OVSP or Twilio-compatible).
    pub code: Code,
    /// Human-readable text.
    pub message: String,
    /// The argument or field at fault, for invalid-argument errors.
    pub field: Option<String>,
    /// The missing permission, for 54100.
    pub permission: Option<String>,
}

impl core::ops::Deref for ApiError {
    type Target = ErrorData;
    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl core::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorData {
        &mut self.0
    }
}

/// `parts` joined into one string (no formatting machinery in the package).
pub fn concat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self::with_message(code, message.into())
    }

    #[inline(never)]
    fn with_message(code: Code, message: String) -> Self {
        ApiError(Box::new(ErrorData {
            code,
            message,
            field: None,
            permission: None,
        }))
    }

    /// A bad argument from JavaScript (-32602 `InvalidParamsError`), naming the field.
    #[inline(never)]
    pub fn invalid(field: &str, why: &str) -> Self {
        let mut e = ApiError::new(
            Code::INVALID_PARAMS,
            concat(&["invalid argument `", field, "`: ", why]),
        );
        e.field = Some(field.to_owned());
        e
    }

    /// A method the server side of this protocol version does not offer.
    #[inline(never)]
    pub fn unsupported(what: &str) -> Self {
        ApiError::new(Code::METHOD_NOT_FOUND, concat(&[what, " is not supported"]))
    }

    /// The stable JS error name of the code, e.g. `"RoomMaxParticipantsExceededError"`.
    pub fn name(&self) -> &'static str {
        self.code.name()
    }
}

impl From<&CoreError> for ApiError {
    #[inline(never)]
    fn from(e: &CoreError) -> Self {
        let mut a = ApiError::new(e.code(), e.message());
        a.permission = e.permission().map(str::to_owned);
        a
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        ApiError::from(&e)
    }
}

impl core::fmt::Display for ApiError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({}): {}", self.name(), self.code.0, self.message)
    }
}

#[cfg(target_arch = "wasm32")]
mod js {
    use super::ApiError;
    use crate::web::js::{object, set, set_str};
    use wasm_bindgen::prelude::*;

    impl ApiError {
        /// A real JS `Error` with `name`, `code`, `message` and, when known, `data`
        /// (`{field, permission}`).
        #[inline(never)]
        pub fn to_js(&self) -> JsValue {
            // Properties through the web layer's one setter (no `name` setter import).
            let e = js_sys::Error::new(&self.message);
            set_str(&e, "name", self.name());
            set(&e, "code", &JsValue::from(self.code.0));
            if self.field.is_some() || self.permission.is_some() {
                let data = object();
                if let Some(f) = &self.field {
                    set_str(&data, "field", f);
                }
                if let Some(p) = &self.permission {
                    set_str(&data, "permission", p);
                }
                set(&e, "data", &data);
            }
            e.into()
        }
    }

    impl From<ApiError> for JsValue {
        fn from(e: ApiError) -> JsValue {
            e.to_js()
        }
    }

    /// The stable error name of a numeric code ("OvspError" when unknown).
    #[wasm_bindgen(js_name = errorName, skip_typescript)]
    pub fn error_name(code: i32) -> JsValue {
        JsValue::from_str(ovsp::codes::Code(code).name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_is_invalid_params_with_field() {
        let e = ApiError::invalid("memberId", "must be a string");
        assert_eq!(e.code, Code::INVALID_PARAMS);
        assert_eq!(e.name(), "InvalidParamsError");
        assert_eq!(e.field.as_deref(), Some("memberId"));
        assert!(e.message.contains("memberId"));
    }

    #[test]
    fn names_come_from_the_code_table() {
        assert_eq!(
            ApiError::new(Code::ROOM_MAX_PARTICIPANTS_EXCEEDED, "full").name(),
            "RoomMaxParticipantsExceededError"
        );
        assert_eq!(
            ApiError::new(Code::TOKEN_EXPIRED, "x").name(),
            "AccessTokenExpiredError"
        );
    }
}
