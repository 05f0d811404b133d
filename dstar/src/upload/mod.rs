//! Uploads (in progress).
