//! The `resend` function. Sends a fresh code on the open challenge (same `authCode`), or opens one.

pub mod http_handler;
