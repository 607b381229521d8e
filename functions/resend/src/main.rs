use lambda_http::{Error, run, service_fn};

// Lambda hands an instance one event at a time: one thread serves it (its AWS requests
// still go out together), without a multi-threaded scheduler's cross-thread wake-ups.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    otp_shared::logging::init();
    let app = otp_shared::app::sending_app_from_env();
    run(service_fn(|event| {
        otp_shared::telemetry::flushed(app.metrics, resend::http_handler::function_handler(&app, event))
    }))
    .await
}
