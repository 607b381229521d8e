use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::ports::{
    AttemptLog, ChallengeStore, ClientRegistry, ConversionStore, Delivery, QuotaStore, SpendStore, UserDirectory,
};
use otp_shared::routes::Function;

/// `register`'s handler (KGen's send), for the resend routes.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + UserDirectory + ClientRegistry,
    D: Delivery,
{
    register::http_handler::kgen_send_handler(Function::Resend, app, event).await
}
