use lambda_http::http::Method;
use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{self, bizmagnets, bridgekeeper, kgen, twilio, zap};
use otp_shared::ports::{ChallengeStore, ClientRegistry, ConfigRegistry, QuotaStore, UserDirectory};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ClientRegistry + ConfigRegistry + UserDirectory,
{
    Ok(
        if twilio::is_verification(&event) && [Method::GET, Method::POST].contains(event.method()) {
            twilio::verification(app, event).await
        } else if twilio::is_services(&event) && [Method::GET, Method::POST].contains(event.method())
            || twilio::is_service(&event) && [Method::GET, Method::POST, Method::DELETE].contains(event.method())
        {
            twilio::services(app, event).await
        } else if !dialect::is_post(&event) {
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
        } else if twilio::is_check(&event) {
            twilio::check(app, event).await
        } else {
            dialect::unrouted(app, &event)
        },
    )
}
