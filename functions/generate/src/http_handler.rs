use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{not_found, zap};
use otp_shared::ports::{ChallengeStore, ClientRegistry, Delivery, QuotaStore};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ClientRegistry,
    D: Delivery,
{
    Ok(if zap::is_generate(&event) {
        zap::generate(app, event).await
    } else {
        not_found()
    })
}
