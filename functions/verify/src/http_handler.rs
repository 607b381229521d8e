use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{self, bizmagnets, bridgekeeper, kgen, twilio, zap};
use otp_shared::ports::{
    AttemptLog, AttemptReader, ChallengeStore, ClientRegistry, ConfigRegistry, ConversionStore, QuotaStore,
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
        + AttemptReader
        + ClientRegistry
        + ConfigRegistry
        + UserDirectory,
{
    Ok(match routes::served_by(Function::Verify, &event) {
        Some(Operation::KgenVerify) => kgen::verify(app, event).await,
        Some(Operation::BizmagnetsVerify) => bizmagnets::verify(app, event).await,
        Some(Operation::ZapVerify) => zap::verify(app, event).await,
        Some(Operation::BridgekeeperVerify) => bridgekeeper::verify(app, event).await,
        Some(Operation::BridgekeeperUpdateWithOtp) => bridgekeeper::update_with_otp(app, event).await,
        Some(Operation::TwilioCheck) => twilio::check(app, event).await,
        Some(Operation::TwilioVerification) => twilio::verification(app, event).await,
        Some(Operation::TwilioServices | Operation::TwilioService) => twilio::services(app, event).await,
        Some(operation @ (Operation::TwilioAttempts | Operation::TwilioAttempt | Operation::TwilioAttemptsSummary)) => {
            twilio::attempts(app, event, operation).await
        }
        _ => dialect::not_found(),
    })
}
