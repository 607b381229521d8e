use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    otp_shared::logging::init();
    let app = otp_shared::app::sending_app_from_env().await;
    run(service_fn(|event| {
        generate::http_handler::function_handler(&app, event)
    }))
    .await
}
