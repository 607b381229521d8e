use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // `--help`, `--version` and usage errors end here, before anything is reached, as
    // `Parser::parse` ends them (exit 2 for a usage error), with the same tips as `execute`.
    let cli = otp_admin::Cli::try_parse_args(std::env::args_os()).unwrap_or_else(|error| error.exit());
    let Some(table) = std::env::var("TABLE_NAME").ok().filter(|t| !t.is_empty()) else {
        eprintln!("{}", serde_json::json!({"error": "TABLE_NAME is required"}));
        return ExitCode::from(2);
    };
    let code_keys = match std::env::var("OTP_HMAC_KEYS")
        .ok()
        .filter(|keys| !keys.trim().is_empty())
    {
        None => None,
        Some(list) => match otp_shared::code::CodeKeys::parse(&list) {
            Ok(keys) => Some(keys),
            Err(error) => {
                eprintln!("{}", serde_json::json!({"error": error.to_string()}));
                return ExitCode::from(2);
            }
        },
    };
    let spend = match otp_shared::settings::spend_settings(|name| std::env::var(name).ok()) {
        Ok(spend) => spend,
        Err(error) => {
            eprintln!("{}", serde_json::json!({"error": error}));
            return ExitCode::from(2);
        }
    };
    let sdk = otp_shared::app::sdk_config().await;
    let admin = otp_admin::Admin {
        store: otp_shared::store::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table),
        ses: aws_sdk_sesv2::Client::new(&sdk),
        email_from: std::env::var("EMAIL_FROM").ok().filter(|from| !from.is_empty()),
        code_keys,
        spend,
        clock: std::sync::Arc::new(otp_shared::clock::SystemClock),
    };
    match otp_admin::run(cli.command, &admin).await {
        Ok(answer) => {
            println!("{answer}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{}", serde_json::json!({"error": error}));
            ExitCode::FAILURE
        }
    }
}
