use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{self, bizmagnets, bridgekeeper, kgen, zap};
use otp_shared::ports::{ChallengeStore, ClientRegistry, QuotaStore, UserDirectory};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ClientRegistry + UserDirectory,
{
    Ok(if !dialect::is_post(&event) {
        dialect::unrouted(app, &event)
    } else if kgen::is_verify(&event) {
        kgen::verify(app, event).await
    } else if bizmagnets::is_verify(&event) {
        bizmagnets::verify(app, event).await
    } else if zap::is_verify(&event) {
        zap::verify(app, event).await
    } else if bridgekeeper::is_verify(&event) {
        bridgekeeper::verify(app, event).await
    } else if bridgekeeper::is_update_with_otp(&event) {
        bridgekeeper::update_with_otp(app, event).await
    } else {
        dialect::unrouted(app, &event)
    })
}
