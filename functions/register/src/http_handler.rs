use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{self, kgen};
use otp_shared::ports::{
    AttemptLog, ChallengeStore, ClientRegistry, ConversionStore, Delivery, QuotaStore, SpendStore, UserDirectory,
};
use otp_shared::routes::{self, Function, Operation};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + UserDirectory + ClientRegistry,
    D: Delivery,
{
    kgen_send_handler(Function::Register, app, event).await
}

/// KGen's send, the handler of `register` and of `resend` alike: a resend is a register
/// while a challenge is open (a fresh code on it), so both functions serve one operation
/// and differ only in the routes the template gives each.
pub async fn kgen_send_handler<S, D>(
    function: Function,
    app: &App<S, D>,
    event: Request,
) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + UserDirectory + ClientRegistry,
    D: Delivery,
{
    Ok(match routes::served_by(function, &event) {
        Some(Operation::KgenSend) => kgen::send(app, event).await,
        _ => dialect::not_found(),
    })
}
