//! The floor every function is measured against: the least a Rust function on Lambda that
//! talks to DynamoDB can be. It builds the AWS configuration and a DynamoDB client at init
//! and makes one `UpdateItem` per request, with no logging, parsing or policy.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Error, Request, Response, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = std::env::var("TABLE_NAME")?;
    run(service_fn(|_request: Request| {
        let (client, table) = (&client, &table);
        async move {
            client
                .update_item()
                .table_name(table)
                .key("pk", AttributeValue::S("FLOOR".to_owned()))
                .update_expression("ADD n :one")
                .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
                .send()
                .await?;
            Ok::<_, Error>(Response::builder().status(200).body(Body::from("{}"))?)
        }
    }))
    .await
}
