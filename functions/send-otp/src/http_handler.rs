use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{self, bizmagnets, bridgekeeper, twilio};
use otp_shared::ports::{ChallengeStore, ClientRegistry, ConfigRegistry, Delivery, QuotaStore, UserDirectory};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ClientRegistry + ConfigRegistry + UserDirectory,
    D: Delivery,
{
    Ok(if !dialect::is_post(&event) {
        dialect::unrouted(app, &event)
    } else if bizmagnets::is_send(&event) {
        bizmagnets::send(app, event).await
    } else if bridgekeeper::is_send(&event) {
        bridgekeeper::send(app, event).await
    } else if twilio::is_create(&event) {
        twilio::create(app, event).await
    } else {
        dialect::unrouted(app, &event)
    })
}
