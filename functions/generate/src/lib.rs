//! The `generate` function: ZAP's generate, by email or SMS. It also takes the API's
//! `$default` route, because HTTP API routes cannot end in `/` and ZAP's path does:
//! `/v1/otp/` arrives here and is served; anything else is a 404.

pub mod http_handler;
