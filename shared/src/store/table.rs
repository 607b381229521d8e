//! The table itself, for local use: in AWS the template creates it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};

use crate::ports::StoreError;

use super::attributes::{PK, TTL};
use super::failures::unavailable;

/// Creates the table (on demand, `pk` string key) and turns on TTL; an existing table is
/// left as it is. For local use: in AWS the template creates it.
pub async fn create_table(client: &Client, table: &str) -> Result<bool, StoreError> {
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(PK)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("complete definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(PK)
                .key_type(KeyType::Hash)
                .build()
                .expect("complete key"),
        )
        .send()
        .await;
    let created = match created {
        Ok(_) => true,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            false
        }
        Err(error) => return Err(unavailable(error)),
    };
    if created {
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL)
                    .enabled(true)
                    .build()
                    .expect("complete specification"),
            )
            .send()
            .await
            .map_err(unavailable)?;
    }
    Ok(created)
}
