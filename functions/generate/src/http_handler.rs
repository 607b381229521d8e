use lambda_http::{Body, Error, Request, Response};
use otp_shared::App;
use otp_shared::dialect::{self, zap};
use otp_shared::ports::{
    AttemptLog, ChallengeStore, ClientRegistry, ConversionStore, Delivery, QuotaStore, SpendStore,
};
use otp_shared::routes::{self, Function, Operation};

/// Answers every request with a status of its own: the runtime never sees an `Err`.
pub async fn function_handler<S, D>(app: &App<S, D>, event: Request) -> Result<Response<Body>, Error>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + ClientRegistry,
    D: Delivery,
{
    Ok(match routes::served_by(Function::Generate, &event) {
        Some(Operation::ZapGenerate) => zap::generate(app, event).await,
        // The `$default` route: HTTP API routes cannot end in `/`, and ZAP's documented
        // path does, so `POST /v1/otp/` is served here; any other request no route took
        // answers in the shape of the product whose path it names.
        Some(Operation::Unrouted) if dialect::declared_operation(&event) == Some(Operation::ZapGenerate) => {
            zap::generate(app, event).await
        }
        Some(Operation::Unrouted) => dialect::unrouted(app, &event),
        _ => dialect::not_found(),
    })
}
