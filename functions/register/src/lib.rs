//! The `register` function. Opens a challenge, or refreshes the open one, and sends its code by SMS.

pub mod http_handler;
