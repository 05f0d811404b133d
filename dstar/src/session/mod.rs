//! Sessions and the signed-in user (in progress).
