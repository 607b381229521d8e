//! `otp-admin user migrate`: the contacts linked before products kept their users apart
//! move into the products that now serve their users, as a deployment's table holds them
//! after an upgrade, and the functions then find them where they belong.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use otp_shared::destination::Destination;
use otp_shared::ports::{Permission, UserDirectory};
use otp_shared::scope::{Product, Realm, UserRef, escape};
use otp_tests::{
    Deployment, EVENTS_ISSUER, emails_to, fresh_email, fresh_phone, full_session, local_aws, now, sdk_config, sms_to,
    token_with,
};
use serde_json::json;

use crate::bridgekeeper::{SEND, request};
use crate::*;

/// Writes a user and its contacts as the registry wrote them before products: keys that
/// name no product, items without a `product` attribute.
async fn legacy_user(deployment: &Deployment, issuer: &str, id: &str, contacts: &[&str]) {
    legacy_user_as(deployment, issuer, id, contacts, true).await;
}

/// The same, the contact items with the `address` attribute only when `with_address`
/// (the earliest releases wrote none).
async fn legacy_user_as(deployment: &Deployment, issuer: &str, id: &str, contacts: &[&str], with_address: bool) {
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_config(&local_aws().endpoint));
    let s = |value: &str| AttributeValue::S(value.to_owned());
    let user_key = format!("{}:{}", escape(issuer), escape(id));
    let mut record: HashMap<String, AttributeValue> = HashMap::from([
        ("pk".to_owned(), s(&format!("USER#{user_key}"))),
        ("issuer".to_owned(), s(issuer)),
        ("user_id".to_owned(), s(id)),
    ]);
    for contact in contacts {
        let attribute = if contact.starts_with('+') { "phone" } else { "email" };
        record.insert(attribute.to_owned(), s(contact));
        let mut item = HashMap::from([
            ("pk".to_owned(), s(&format!("CONTACT#{}", contact.to_ascii_lowercase()))),
            ("user_key".to_owned(), s(&user_key)),
            ("issuer".to_owned(), s(issuer)),
            ("user_id".to_owned(), s(id)),
            ("linked_at".to_owned(), AttributeValue::N("1700000000".to_owned())),
        ]);
        if with_address {
            item.insert("address".to_owned(), s(contact));
        }
        dynamodb
            .put_item()
            .table_name(&deployment.table)
            .set_item(Some(item))
            .send()
            .await
            .expect("legacy contact written");
    }
    dynamodb
        .put_item()
        .table_name(&deployment.table)
        .set_item(Some(record))
        .send()
        .await
        .expect("legacy user written");
}

/// The keys of the registry items that name no product.
async fn legacy_keys(deployment: &Deployment) -> Vec<String> {
    deployment
        .scan()
        .await
        .into_iter()
        .filter(|item| !item.contains_key("product"))
        .filter_map(|item| item.get("pk")?.as_s().ok().cloned())
        .filter(|pk| pk.starts_with("CONTACT#") || pk.starts_with("USER#"))
        .collect()
}

#[tokio::test]
async fn legacy_contacts_move_into_the_products_that_serve_their_users() {
    let deployment = Deployment::new().await;
    let zap_client = deployment.client_with(&[Permission::Zap]).await;
    let (alices_national, alices_phone) = fresh_phone();
    let alices_email = fresh_email();
    let (bobs_national, bobs_phone) = fresh_phone();
    let zeds_email = fresh_email();
    let (_, contested_phone) = fresh_phone();
    // A user of the events' issuer (Bridgekeeper's, here), one of another issuer, a ZAP
    // user as ZAP wrote them (`zap:<client>`), and a phone linked again since the deploy.
    legacy_user(&deployment, EVENTS_ISSUER, "alice", &[&alices_phone, &alices_email]).await;
    legacy_user_as(&deployment, "https://other.example", "bob", &[&bobs_phone], false).await;
    let zap_issuer = format!("zap:{}", zap_client.id);
    legacy_user(&deployment, &zap_issuer, "zed", &[&zeds_email]).await;
    legacy_user(&deployment, EVENTS_ISSUER, "dave", &[&contested_phone]).await;
    // An issuer spelled like ZAP's, of no client: a token's issuer, so KGen's user.
    let (ghosts_national, ghosts_phone) = fresh_phone();
    legacy_user(&deployment, "zap:no-such-client", "ghost", &[&ghosts_phone]).await;
    let carol = UserRef::new(Product::Kgen, EVENTS_ISSUER, "carol");
    deployment.user(&carol, &[&contested_phone]).await;
    assert_eq!(legacy_keys(&deployment).await.len(), 11);

    // Whose users Bridgekeeper serves is said, never assumed.
    assert!(deployment.admin(&["user", "migrate"]).await.is_err());
    let migrate = ["user", "migrate", "--bridgekeeper-issuers", EVENTS_ISSUER];
    let mut dry_run = migrate.to_vec();
    dry_run.push("--dry-run");
    let planned = deployment.admin(&dry_run).await.expect("dry run");
    assert_eq!(
        (
            planned["legacy_contacts"].clone(),
            planned["legacy_users"].clone(),
            planned["placements"].clone(),
            planned["linked"].clone()
        ),
        (json!(6), json!(5), json!(9), json!(0)),
        "{planned}"
    );
    assert_eq!(planned["bridgekeeper_placements"], json!(3), "{planned}");
    assert_eq!(legacy_keys(&deployment).await.len(), 11, "a dry run changes nothing");

    let done = deployment.admin(&migrate).await.expect("migrated");
    assert_eq!(done["linked"], json!(8), "{done}");
    assert_eq!(
        done["kept_newer"],
        json!([{"contact": contested_phone, "user": {"product": "kgen", "issuer": EVENTS_ISSUER, "user_id": "dave"}}])
    );
    assert_eq!(done["deleted"], json!(11));
    assert!(legacy_keys(&deployment).await.is_empty());

    // KGen knows Alice's and Bob's numbers as its users' (each of their own issuer).
    let alice = token_with(json!({"iss": EVENTS_ISSUER, "sub": "alice", "exp": now() + 600}));
    let (_, answer, _) = register_fe(&deployment, &alice, &alices_national).await;
    assert_eq!(answer["isNewUser"], json!(false), "{answer}");
    let bob = token_with(json!({"iss": "https://other.example", "sub": "bob", "exp": now() + 600}));
    let (_, answer, _) = register_fe(&deployment, &bob, &bobs_national).await;
    assert_eq!(answer["isNewUser"], json!(false), "{answer}");
    let ghost = token_with(json!({"iss": "zap:no-such-client", "sub": "ghost", "exp": now() + 600}));
    let (_, answer, _) = register_fe(&deployment, &ghost, &ghosts_national).await;
    assert_eq!(answer["isNewUser"], json!(false), "{answer}");

    // Bridgekeeper knows Alice, of its issuer: a session's send reaches her phone on record,
    // and an anonymous send to her email goes out without always-send.
    deployment.clock.advance(30);
    let cookie = format!("qt-auth={}", full_session("alice"));
    let mediums = json!({"mediums": ["phone-number"]}).to_string();
    let (status, answer, _) = call_send_otp(&deployment, request(SEND, Some(&cookie), None, &mediums)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(sms_to(&alices_phone).len(), 2);
    let anonymous = json!({"email": alices_email}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, None, None, &anonymous))
            .await
            .0,
        200
    );
    assert_eq!(emails_to(&alices_email).len(), 1);

    // Bob's issuer is not Bridgekeeper's; Zed is ZAP's user of its client; the contested
    // phone stays Carol's in KGen and is Dave's in Bridgekeeper.
    let bobs = Destination::e164(&bobs_phone).expect("valid");
    let bridgekeeper = Realm::new(Product::Bridgekeeper, "https://other.example");
    assert_eq!(deployment.store.owner_of(&bridgekeeper, &bobs).await, Ok(None));
    let zeds = Destination::email(&zeds_email).expect("valid");
    let zap = Realm::new(Product::Zap, zap_client.id.clone());
    assert_eq!(
        deployment.store.owner_of(&zap, &zeds).await,
        Ok(Some(UserRef::new(Product::Zap, zap_client.id.clone(), "zed")))
    );
    let contested = Destination::e164(&contested_phone).expect("valid");
    assert_eq!(
        deployment.store.owner_of(&carol.realm(), &contested).await,
        Ok(Some(carol))
    );
    let dave = UserRef::new(Product::Bridgekeeper, EVENTS_ISSUER, "dave");
    assert_eq!(
        deployment.store.owner_of(&dave.realm(), &contested).await,
        Ok(Some(dave))
    );

    // Run again: nothing left to move.
    let again = deployment.admin(&migrate).await.expect("migrated again");
    assert_eq!(
        (again["legacy_contacts"].clone(), again["linked"].clone()),
        (json!(0), json!(0))
    );
}

#[tokio::test]
async fn contacts_of_users_no_product_serves_are_kept_unless_dropped() {
    let deployment = Deployment::new().await;
    let (_, phone) = fresh_phone();
    legacy_user(&deployment, "https://other.example", "bob", &[&phone]).await;
    let migrate = ["user", "migrate", "--no-bridgekeeper", "--skip-kgen"];
    let done = deployment.admin(&migrate).await.expect("migrated");
    assert_eq!(
        (done["placements"].clone(), done["deleted"].clone()),
        (json!(0), json!(0)),
        "{done}"
    );
    assert_eq!(done["unserved"][0]["contact"], json!(phone));
    assert_eq!(legacy_keys(&deployment).await.len(), 2, "the contact and its user stay");

    let mut dropping = migrate.to_vec();
    dropping.push("--drop-unserved");
    let done = deployment.admin(&dropping).await.expect("migrated");
    assert_eq!(done["deleted"], json!(2), "{done}");
    assert!(legacy_keys(&deployment).await.is_empty());
}
