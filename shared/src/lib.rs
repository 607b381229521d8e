//! The OTP service's shared crate: a domain that knows nothing of HTTP or AWS (codes,
//! destinations, challenges, budgets), the ports it needs, their AWS implementations, and
//! the HTTP dialects that the five functions speak.

pub mod app;
pub mod backend;
pub mod callers;
pub mod challenge;
pub mod clock;
pub mod code;
pub mod cross_site;
pub mod delivery;
pub mod destination;
pub mod dialect;
pub mod engine;
pub mod error;
pub mod function_config;
pub mod http;
pub mod logging;
pub mod messages;
pub mod policy;
pub mod ports;
pub mod quota;
pub mod scope;
pub mod settings;
pub mod sid;
pub mod store;
pub mod telemetry;
pub mod tenant;
pub mod test_destinations;
pub mod whatsapp;

pub use app::{App, NoDelivery};
pub use error::OtpError;
