//! The `resend` function: `register`'s handler (KGen's send) on the resend routes. A send
//! while a challenge is open issues a fresh code on it (same `authCode`); otherwise it opens one.

pub mod http_handler;
