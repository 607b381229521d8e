//! The storage ports' contract (`shared/src/port_contract.rs`) against the DynamoDB store
//! on the local AWS: the suite the in-memory store of the engine's fast tests passes too.

use otp_tests::Deployment;

#[tokio::test]
async fn the_dynamodb_store_keeps_the_port_contract() {
    let deployment = Deployment::new().await;
    let run = uuid::Uuid::new_v4().simple().to_string();
    otp_shared::port_contract::check_all(&deployment.store, &run, otp_tests::now()).await;
}
