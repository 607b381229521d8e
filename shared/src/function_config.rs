//! The AWS SDK configuration of a deployed function: what Lambda gives it, read from its
//! environment.
//!
//! Lambda puts a function's region and its execution role's temporary credentials in the
//! environment (`AWS_REGION`; `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`). `aws_config::load_defaults` finds them there too, first in its
//! chain, but it links every other source it could try as well: profile files, SSO, web
//! identity and role assumption (with an STS client), the container and instance metadata
//! endpoints. A function never takes those, and they are about 1.1 MB of each bootstrap
//! (docs/benchmarks.md). The operator's command line and the local server, which run where
//! profiles and SSO live, keep `load_defaults` ([`crate::app::sdk_config`]).
//!
//! What the environment can still set, as the SDK reads it: `AWS_ENDPOINT_URL` and
//! `AWS_ENDPOINT_URL_<SERVICE>` (a local AWS; the service-specific one wins),
//! `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT`. Retries and timeouts are the
//! service's own, set per client (`backend`).

use aws_config::SdkConfig;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::identity::IdentityCache;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::env_config::EnvConfigValue;
use aws_smithy_async::rt::sleep::default_async_sleep;
use aws_types::os_shim_internal::Env;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

/// The configuration of a function from its process environment.
pub fn function_sdk_config() -> SdkConfig {
    sdk_config_from(Env::real(), EnvironmentVariableCredentialsProvider::new())
}

/// The configuration of a function from `env`, signing with `credentials` (Lambda's: the
/// environment's). Separate so that tests can give an environment of their own.
pub fn sdk_config_from(env: Env, credentials: impl ProvideCredentials + 'static) -> SdkConfig {
    let region = env
        .get("AWS_REGION")
        .or_else(|_| env.get("AWS_DEFAULT_REGION"))
        .ok()
        .map(Region::new);
    let use_fips = flag(&env, "AWS_USE_FIPS_ENDPOINT");
    let use_dual_stack = flag(&env, "AWS_USE_DUALSTACK_ENDPOINT");
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        // One cache for every client of the process: the credentials are read once.
        .identity_cache(IdentityCache::lazy().build())
        .service_config(EnvironmentServiceConfig(env));
    config.set_region(region);
    config.set_use_fips(use_fips);
    config.set_use_dual_stack(use_dual_stack);
    config.set_sleep_impl(default_async_sleep());
    config.build()
}

/// A `true`/`false` setting of the environment; anything else is unset, as the SDK's
/// own loader treats it.
fn flag(env: &Env, name: &str) -> Option<bool> {
    let value = env.get(name).ok()?;
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        tracing::warn!(setting = name, "not true or false: ignored");
        None
    }
}

/// Service settings (an endpoint URL) from the environment: `AWS_ENDPOINT_URL_<SERVICE>`
/// first, then `AWS_ENDPOINT_URL`, named and looked up by the SDK's own rules.
#[derive(Debug)]
struct EnvironmentServiceConfig(Env);

impl LoadServiceConfig for EnvironmentServiceConfig {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        EnvConfigValue::new()
            .env(key.env())
            .service_id(key.service_id())
            .load(&self.0, None)
            .map(|(value, _source)| value.into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    fn config(vars: &[(&str, &str)]) -> SdkConfig {
        sdk_config_from(
            Env::from_slice(vars),
            Credentials::new("id", "secret", None, None, "test"),
        )
    }

    fn endpoint_of(config: &SdkConfig, service_id: &str) -> Option<String> {
        let key = ServiceConfigKey::builder()
            .service_id(service_id)
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .expect("a complete key");
        config.service_config().and_then(|c| c.load_config(key))
    }

    #[test]
    fn region_from_aws_region_then_the_default_region() {
        let both = config(&[("AWS_REGION", "eu-west-1"), ("AWS_DEFAULT_REGION", "us-east-1")]);
        assert_eq!(both.region().map(|r| r.as_ref()), Some("eu-west-1"));
        let default_only = config(&[("AWS_DEFAULT_REGION", "us-east-1")]);
        assert_eq!(default_only.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert!(config(&[]).region().is_none());
    }

    #[test]
    fn a_service_specific_endpoint_wins_over_the_global_one() {
        let config = config(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_SNS", "http://127.0.0.1:6000"),
            ("AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:7000"),
        ]);
        assert_eq!(endpoint_of(&config, "SNS").as_deref(), Some("http://127.0.0.1:6000"));
        assert_eq!(endpoint_of(&config, "SESv2").as_deref(), Some("http://127.0.0.1:7000"));
        assert_eq!(
            endpoint_of(&config, "DynamoDB").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            endpoint_of(&config, "SocialMessaging").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        let unset = super::tests::config(&[]);
        assert_eq!(endpoint_of(&unset, "DynamoDB"), None);
    }

    #[test]
    fn fips_and_dual_stack_only_from_true_or_false() {
        let on = config(&[
            ("AWS_USE_FIPS_ENDPOINT", "TRUE"),
            ("AWS_USE_DUALSTACK_ENDPOINT", "false"),
        ]);
        assert_eq!((on.use_fips(), on.use_dual_stack()), (Some(true), Some(false)));
        let junk = config(&[("AWS_USE_FIPS_ENDPOINT", "yes")]);
        assert_eq!((junk.use_fips(), junk.use_dual_stack()), (None, None));
    }
}
