//! [`FlashKey`]: how a message is signed into a cookie or header value, and verified with its age.

use super::message::Message;
use crate::secret::AppKey;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// How long an unshown message waits for its page load.
pub(super) const MAX_AGE_SECS: i64 = 300;
/// How long the page that shows a message shows it through its live re-renders.
pub(super) const PAGE_MAX_AGE_SECS: i64 = 86_400;
/// Longer values are not read: a flash is a sentence, not a document.
const MAX_VALUE_LEN: usize = 2048;

/// The key flash messages are signed with: given, or [`AppKey::from_env`] on first use (so an
/// app that never flashes writes no key file).
#[derive(Clone)]
pub(crate) struct FlashKey(Arc<OnceLock<AppKey>>);

impl FlashKey {
    pub(crate) fn new(key: Option<AppKey>) -> Self {
        let cell = OnceLock::new();
        if let Some(key) = key {
            let _ = cell.set(key);
        }
        FlashKey(Arc::new(cell))
    }

    fn mac(&self) -> Hmac<Sha256> {
        let key = self.0.get_or_init(AppKey::from_env);
        Hmac::<Sha256>::new_from_slice(key.bytes()).expect("any key length")
    }

    pub(super) fn sign(&self, message: &Message) -> Option<String> {
        let json = serde_json::to_vec(&(message, unix_now())).ok()?;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let mut mac = self.mac();
        mac.update(b"dstar flash\0");
        mac.update(payload.as_bytes());
        let tag = hex::encode(mac.finalize().into_bytes());
        Some(format!("{payload}.{tag}"))
    }

    pub(super) fn verify(&self, value: &str) -> Option<Message> {
        self.verify_within(value, MAX_AGE_SECS)
    }

    pub(super) fn verify_within(&self, value: &str, max_age: i64) -> Option<Message> {
        if value.len() > MAX_VALUE_LEN {
            return None;
        }
        let (payload, tag) = value.split_once('.')?;
        let tag = hex::decode(tag).ok()?;
        let mut mac = self.mac();
        mac.update(b"dstar flash\0");
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag).ok()?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .ok()?;
        let (message, at): (Message, i64) = serde_json::from_slice(&json).ok()?;
        (unix_now() - at <= max_age).then_some(message)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl fmt::Debug for FlashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FlashKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flash::Level;

    #[test]
    fn a_signed_message_verifies_and_an_altered_one_does_not() {
        let key = FlashKey::new(Some(AppKey::new("k")));
        let m = Message {
            level: Level::Success,
            text: "Welcome <b>back</b>".into(),
        };
        let signed = key.sign(&m).unwrap();
        assert_eq!(key.verify(&signed), Some(m));
        let (payload, tag) = signed.split_once('.').unwrap();
        let forged = format!("{}A.{tag}", payload);
        assert_eq!(key.verify(&forged), None);
        let other = FlashKey::new(Some(AppKey::new("other")));
        assert_eq!(other.verify(&signed), None);
        assert_eq!(key.verify("garbage"), None);
    }
}
