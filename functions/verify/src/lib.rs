//! The `verify` function. Checks a code and, on success, links the destination to the caller's user.

pub mod http_handler;
