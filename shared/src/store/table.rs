//! The table itself, for local use: in AWS the template creates it.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};

use crate::ports::StoreError;

use super::attributes::{ATTEMPTS_DAY, ATTEMPTS_INDEX, CREATED_AT, PK, TTL};
use super::failures::unavailable;

fn definition(name: &str, kind: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .expect("complete definition")
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("complete key")
}

/// Creates the table (on demand, `pk` string key, the attempts' index by tenant and day)
/// and turns on TTL; an existing table is left as it is. For local use: in AWS the
/// template creates it, the same.
pub async fn create_table(client: &Client, table: &str) -> Result<bool, StoreError> {
    let attempts = GlobalSecondaryIndex::builder()
        .index_name(ATTEMPTS_INDEX)
        .key_schema(key(ATTEMPTS_DAY, KeyType::Hash))
        .key_schema(key(CREATED_AT, KeyType::Range))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .expect("complete index");
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(definition(PK, ScalarAttributeType::S))
        .attribute_definitions(definition(ATTEMPTS_DAY, ScalarAttributeType::S))
        .attribute_definitions(definition(CREATED_AT, ScalarAttributeType::N))
        .key_schema(key(PK, KeyType::Hash))
        .global_secondary_indexes(attempts)
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
