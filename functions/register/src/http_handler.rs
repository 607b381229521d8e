use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{self, kgen};
use otp_shared::ports::{ChallengeStore, ClientRegistry, Delivery, QuotaStore, UserDirectory};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + UserDirectory + ClientRegistry,
    D: Delivery,
{
    Ok(if !dialect::is_post(&event) {
        dialect::unrouted(app, &event)
    } else if kgen::is_send(&event) {
        kgen::send(app, event).await
    } else {
        dialect::unrouted(app, &event)
    })
}
