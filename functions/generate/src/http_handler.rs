use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{bridgekeeper, not_found, zap};
use otp_shared::ports::{ChallengeStore, ClientRegistry, Delivery, QuotaStore};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ClientRegistry,
    D: Delivery,
{
    // Generate also serves the `$default` route: whatever no other route took lands here,
    // and a Bridgekeeper path still answers in Bridgekeeper's shape.
    Ok(if zap::is_generate(&event) {
        zap::generate(app, event).await
    } else {
        bridgekeeper::unrouted(&event).unwrap_or_else(not_found)
    })
}
