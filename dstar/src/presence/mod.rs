//! Presence (in progress).
