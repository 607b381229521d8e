//! The OTP service's shared crate, in three layers, each importing only the ones before
//! it (docs/architecture.md, "Layers"): a domain that names neither HTTP nor AWS (codes,
//! destinations, challenges, budgets, the engine and the ports it needs), the adapters
//! that implement those ports on AWS, and the HTTP side: the route table and the products'
//! dialects that the five functions speak.

// The domain.
pub mod attempts;
pub mod callers;
pub mod challenge;
pub mod clock;
pub mod code;
pub mod cross_site;
pub mod destination;
pub mod digits;
pub mod engine;
pub mod error;
pub mod guard;
pub mod language;
pub mod localization;
pub mod messages;
pub mod number_rules;
pub mod policy;
pub mod ports;
pub mod quota;
pub mod scope;
pub mod sid;
pub mod spend;
pub mod telemetry;
pub mod tenant;
pub mod test_destinations;
pub mod whatsapp;

// The adapters: the ports on AWS.
pub mod backend;
pub mod delivery;
pub mod function_config;
pub mod logging;
pub mod store;

// The ports' contract, and an in-memory store that keeps it: for the engine's fast tests
// and, through the feature, for the same suite against DynamoDB. Never deployed.
#[cfg(any(test, feature = "port-contract"))]
pub mod memory;
#[cfg(any(test, feature = "port-contract"))]
pub mod port_contract;

// HTTP, and one function's wiring (its settings from the environment).
pub mod app;
pub mod dialect;
pub mod http;
pub mod routes;
pub mod settings;

pub use app::{App, NoDelivery};
pub use error::OtpError;

#[cfg(test)]
mod layers {
    use std::path::{Path, PathBuf};

    /// The domain's modules: files, or folders whose every file is the domain's.
    const DOMAIN: [&str; 25] = [
        "attempts",
        "callers",
        "challenge",
        "clock",
        "code",
        "cross_site",
        "destination",
        "digits",
        "engine",
        "error",
        "guard",
        "language",
        "localization",
        "messages",
        "number_rules",
        "policy",
        "ports",
        "quota",
        "scope",
        "sid",
        "spend",
        "telemetry",
        "tenant",
        "test_destinations",
        "whatsapp",
    ];

    /// What the domain may not name: the SDK, the HTTP runtime, and the later layers.
    const LATER: [&str; 16] = [
        "aws_sdk_",
        "aws_config",
        "aws_smithy",
        "aws_types",
        "lambda_http",
        "crate::backend",
        "crate::delivery",
        "crate::function_config",
        "crate::logging",
        "crate::store",
        "crate::app",
        "crate::dialect",
        "crate::http",
        "crate::routes",
        "crate::settings",
        "crate::App",
    ];

    fn sources(module: &str) -> Vec<PathBuf> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let file = src.join(format!("{module}.rs"));
        if file.exists() {
            return vec![file];
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(src.join(module))
            .expect("a module's folder")
            .map(|entry| entry.expect("an entry").path())
            .collect();
        files.sort();
        files
    }

    #[test]
    fn the_domain_names_neither_http_nor_aws_nor_a_later_layer() {
        let mut checked = 0;
        for module in DOMAIN {
            for file in sources(module) {
                let text = std::fs::read_to_string(&file).expect("a source file");
                for (number, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or_default();
                    for name in LATER {
                        assert!(
                            !code.contains(name),
                            "{}:{}: the domain names {name}",
                            file.display(),
                            number + 1
                        );
                    }
                }
                checked += 1;
            }
        }
        assert!(checked >= 22, "{checked} files checked");
    }

    #[test]
    fn every_module_of_the_crate_is_in_a_layer() {
        // A new module is placed in a layer on purpose: the domain's list above, or the
        // adapters' and HTTP's (which the lib.rs declarations group).
        let lib = include_str!("lib.rs");
        let declared = lib
            .lines()
            .filter_map(|line| line.strip_prefix("pub mod ")?.strip_suffix(';'));
        let outside = [
            "backend",
            "delivery",
            "function_config",
            "logging",
            "store",
            "memory",
            "port_contract",
            "app",
            "dialect",
            "http",
            "routes",
            "settings",
        ];
        for module in declared {
            assert!(
                DOMAIN.contains(&module) || outside.contains(&module),
                "{module} is in no layer"
            );
        }
    }
}
