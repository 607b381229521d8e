use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{self, bizmagnets, bridgekeeper, twilio};
use otp_shared::ports::{
    AttemptLog, ChallengeStore, ClientRegistry, ConfigRegistry, ConversionStore, Delivery, QuotaStore, SpendStore,
    UserDirectory,
};
use otp_shared::routes::{self, Function, Operation};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore
        + QuotaStore
        + ConversionStore
        + AttemptLog
        + SpendStore
        + ClientRegistry
        + ConfigRegistry
        + UserDirectory,
    D: Delivery,
{
    Ok(match routes::served_by(Function::SendOtp, &event) {
        Some(Operation::BizmagnetsSend) => bizmagnets::send(app, event).await,
        Some(Operation::BridgekeeperSend) => bridgekeeper::send(app, event).await,
        Some(Operation::TwilioCreate) => twilio::create(app, event).await,
        _ => dialect::not_found(),
    })
}
