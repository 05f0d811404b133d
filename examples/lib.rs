//! The dstar examples: `cargo run --example <name>`. Each listens on `DSTAR_ADDR` (default
//! `127.0.0.1:3000`; the sdk-test-server `127.0.0.1:7331`) and prints its routes on start.
