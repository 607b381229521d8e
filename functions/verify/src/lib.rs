//! The `verify` function: checks a code for every product (KGen, BizMagnets, ZAP,
//! Bridgekeeper) and, where the product links, links the destination to the user.

pub mod http_handler;
