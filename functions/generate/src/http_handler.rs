use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{self, zap};
use otp_shared::ports::{ChallengeStore, ClientRegistry, Delivery, QuotaStore};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ClientRegistry,
    D: Delivery,
{
    // Generate also serves the `$default` route: whatever no other route took lands here
    // (another method, a final `/`, an unknown path) and answers in its dialect's shape.
    Ok(if !dialect::is_post(&event) {
        dialect::unrouted(app, &event)
    } else if zap::is_generate(&event) {
        zap::generate(app, event).await
    } else {
        dialect::unrouted(app, &event)
    })
}
