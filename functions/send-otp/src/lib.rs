//! The `send-otp` function: BizMagnets' sendOTP and Bridgekeeper's send-otp, by SMS or email.

pub mod http_handler;
