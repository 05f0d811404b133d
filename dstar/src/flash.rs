//! One-time messages across a redirect (in progress).
