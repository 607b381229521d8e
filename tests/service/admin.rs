//! `otp-admin`: the table and SES identity for local use, API clients stored by hash only,
//! OTP configurations and imported users.

use otp_admin::{Admin, execute};
use otp_shared::callers::{authenticate_api_key, authenticate_client};
use otp_shared::destination::Destination;
use otp_shared::ports::{Channel, ConfigRegistry, ContactKind, Permission, UserDirectory};
use otp_shared::scope::{Product, UserRef};
use otp_shared::store::DynamoStore;
use otp_tests::{local_aws, sdk_config};

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The words of a command line.
fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

async fn admin() -> (Admin, aws_sdk_dynamodb::Client) {
    let sdk = sdk_config(&local_aws().endpoint);
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = format!("otp-admin-{}", uuid::Uuid::new_v4().simple());
    let admin = Admin {
        store: DynamoStore::new(client.clone(), table),
        ses: aws_sdk_sesv2::Client::new(&sdk),
        email_from: Some("admin-test@example.com".into()),
        code_keys: Some(otp_shared::code::CodeKeys::parse(otp_tests::HMAC_KEYS).expect("test key")),
        spend: Default::default(),
        clock: std::sync::Arc::new(otp_shared::clock::SystemClock),
    };
    (admin, client)
}

fn tampered(secret: &str) -> String {
    let mut tampered = secret.to_owned();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == '0' { '1' } else { '0' });
    tampered
}

#[tokio::test]
async fn init_creates_the_table_and_identity_once() {
    let (admin, client) = admin().await;
    let answer = execute(&args(&["init"]), &admin).await.expect("init");
    assert_eq!(answer["created"], true);
    assert_eq!(answer["email_identity"]["identity"], "admin-test@example.com");
    let table = admin.store.table();
    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .expect("TTL described");
    assert_eq!(
        ttl.time_to_live_description().and_then(|d| d.attribute_name()),
        Some("ttl")
    );
    let identity = admin
        .ses
        .get_email_identity()
        .email_identity("admin-test@example.com")
        .send()
        .await
        .expect("the identity exists");
    assert!(identity.identity_type().is_some());
    let again = execute(&args(&["init"]), &admin).await.expect("init again");
    assert_eq!(
        (again["created"].clone(), again["email_identity"]["created"].clone()),
        (false.into(), false.into())
    );
}

#[tokio::test]
async fn clients_are_stored_hashed_with_their_permissions() {
    let (admin, client) = admin().await;
    execute(&args(&["init"]), &admin).await.expect("init");
    let store = &admin.store;

    let created = execute(
        &args(&[
            "client",
            "create",
            "--name",
            "Rewards",
            "--permissions",
            "kgen-proxy,zap",
        ]),
        &admin,
    )
    .await
    .expect("client created");
    let id = created["client_id"].as_str().expect("client_id");
    let secret = created["client_secret"].as_str().expect("client_secret");
    let key = created["api_key"].as_str().expect("api_key");
    assert_eq!(secret.len(), 64, "a 256-bit secret");
    assert_eq!(created["permissions"], serde_json::json!(["kgen-proxy", "zap"]));

    let record = authenticate_client(store, Some(id), Some(secret), Permission::KgenProxy)
        .await
        .expect("secret works");
    assert_eq!(record.name, "Rewards");
    assert!(
        authenticate_client(store, Some(id), Some(&tampered(secret)), Permission::KgenProxy)
            .await
            .is_err()
    );
    assert!(authenticate_api_key(store, Some(key), Permission::Zap).await.is_ok());
    assert!(
        authenticate_api_key(store, Some(&tampered(key)), Permission::Zap)
            .await
            .is_err()
    );
    assert!(
        authenticate_api_key(store, Some(key), Permission::Bizmagnets)
            .await
            .is_err(),
        "a permission it was not given"
    );
    assert!(
        authenticate_api_key(store, Some(secret), Permission::Zap)
            .await
            .is_err(),
        "the secret is not the key"
    );

    let items = client
        .scan()
        .table_name(store.table())
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let dump = format!("{items:?}");
    let key_secret = key.split_once('.').expect("id.secret").1;
    assert!(
        !dump.contains(secret) && !dump.contains(key_secret),
        "no secret is stored"
    );

    let everything = execute(
        &args(&[
            "client",
            "create",
            "--name",
            "All",
            "--permissions",
            "kgen-proxy,bizmagnets,zap,twilio",
        ]),
        &admin,
    )
    .await
    .expect("created");
    assert_eq!(
        everything["permissions"],
        serde_json::json!(["kgen-proxy", "bizmagnets", "zap", "twilio"])
    );
    for bad in [
        vec!["client", "create"],
        vec!["client", "create", "--name", "X", "--permissions", "root"],
        vec!["client", "create", "--name", "X", "--bogus", "1"],
        vec!["frobnicate"],
    ] {
        assert!(execute(&args(&bad), &admin).await.is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn a_client_is_created_only_with_the_permissions_named() {
    let (admin, _) = admin().await;
    execute(&args(&["init"]), &admin).await.expect("init");

    // No default to fall back on: the refusal says what to name.
    let error = execute(&args(&["client", "create", "--name", "Shop"]), &admin)
        .await
        .expect_err("no client without --permissions");
    assert!(error.contains("--permissions"), "{error}");
    for permission in Permission::ALL {
        assert!(
            error.contains(permission.name()),
            "{error} does not name {}",
            permission.name()
        );
    }
    for naming_none in [
        vec!["client", "create", "--name", "Shop", "--permissions"],
        vec!["client", "create", "--name", "Shop", "--permissions", ""],
        vec!["client", "create", "--name", "Shop", "--permissions", ","],
    ] {
        let error = execute(&args(&naming_none), &admin).await.expect_err("refused");
        assert!(error.contains("--permissions"), "{naming_none:?}: {error}");
    }
    let listed = execute(&args(&["client", "list"]), &admin).await.expect("listed");
    assert_eq!(
        listed["clients"],
        serde_json::json!([]),
        "a refused create stores nothing"
    );

    let created = execute(
        &args(&["client", "create", "--name", "Shop", "--permissions", "twilio"]),
        &admin,
    )
    .await
    .expect("created");
    assert_eq!(created["permissions"], serde_json::json!(["twilio"]));
}

#[tokio::test]
async fn configurations_are_validated_and_owned_by_a_client() {
    let (admin, _) = admin().await;
    execute(&args(&["init"]), &admin).await.expect("init");
    let created = execute(
        &args(&["client", "create", "--name", "Shop", "--permissions", "bizmagnets"]),
        &admin,
    )
    .await
    .expect("client");
    let client_id = created["client_id"].as_str().expect("id");
    let base = [
        "config",
        "create",
        "--client",
        client_id,
        "--channel",
        "sms",
        "--length",
        "8",
        "--ttl",
        "120",
    ];
    let mut good = base.to_vec();
    good.extend([
        "--template",
        "Hi {name}, your {sender} code is {code}",
        "--sender",
        "ACMESHOP",
    ]);
    let answer = execute(&args(&good), &admin).await.expect("configuration created");
    let uid = answer["otp_config_uid"].as_str().expect("uid");
    let config = admin.store.config(uid).await.expect("read").expect("stored");
    assert_eq!((config.client_id.as_str(), config.channel), (client_id, Channel::Sms));
    assert_eq!(
        (config.profile.code_length, config.profile.lifetime.as_secs()),
        (8, 120)
    );

    let refusals: [(&str, &str, &str, &str); 6] = [
        ("--length", "5", "--template", "{code}"),
        ("--length", "11", "--template", "{code}"),
        ("--ttl", "59", "--template", "{code}"),
        ("--ttl", "601", "--template", "{code}"),
        ("--length", "6", "--template", "no placeholder"),
        ("--length", "6", "--sender", "NOT A SENDER ID"),
    ];
    for (flag, value, other_flag, other_value) in refusals {
        let mut words = vec!["config", "create", "--client", client_id, "--channel", "sms"];
        for (name, default) in [
            ("--length", "6"),
            ("--ttl", "300"),
            ("--template", "{code}"),
            ("--sender", "ACME"),
        ] {
            let chosen = if name == flag {
                value
            } else if name == other_flag {
                other_value
            } else {
                default
            };
            words.extend([name, chosen]);
        }
        assert!(execute(&args(&words), &admin).await.is_err(), "{words:?}");
    }
    let mut unknown_client = good.clone();
    unknown_client[3] = "no-such-client";
    assert!(execute(&args(&unknown_client), &admin).await.is_err());
}

#[tokio::test]
async fn users_are_imported_with_their_contacts() {
    let (admin, _) = admin().await;
    execute(&args(&["init"]), &admin).await.expect("init");
    let answer = execute(
        &args(&[
            "user",
            "import",
            "--product",
            "bridgekeeper",
            "--user-id",
            "u-1",
            "--issuer",
            "qt",
            "--phone",
            "+919876500001",
            "--email",
            "u1@example.com",
        ]),
        &admin,
    )
    .await
    .expect("imported");
    assert_eq!(answer["linked"].as_array().map(Vec::len), Some(2));
    let user = UserRef::new(Product::Bridgekeeper, "qt", "u-1");
    let phone = admin.store.contact_of(&user, ContactKind::Phone).await.expect("read");
    assert_eq!(phone, Some(Destination::e164("+919876500001").expect("valid")));
    let owner = admin
        .store
        .owner_of(&user.realm(), &Destination::email("u1@example.com").expect("valid"))
        .await
        .expect("read");
    assert_eq!(owner, Some(user));
    // The product is said, and names one that keeps users.
    let kgen = UserRef::new(Product::Kgen, "qt", "u-1");
    let in_kgen = admin.store.contact_of(&kgen, ContactKind::Phone).await.expect("read");
    assert_eq!(in_kgen, None, "a Bridgekeeper user's contacts are nothing to KGen");
    for bad in [
        vec!["user", "import", "--user-id", "u-2", "--phone", "+919876500002"],
        vec![
            "user",
            "import",
            "--product",
            "client-api",
            "--user-id",
            "u-2",
            "--phone",
            "+919876500002",
        ],
        vec!["user", "import", "--product", "bridgekeeper", "--user-id", "u-2"],
        vec![
            "user",
            "import",
            "--product",
            "bridgekeeper",
            "--user-id",
            "u-2",
            "--phone",
            "98765",
        ],
        vec![
            "user",
            "import",
            "--product",
            "kgen",
            "--user-id",
            "u-2",
            "--email",
            "not-an-email",
        ],
        vec!["user", "import", "--product", "zap", "--phone", "+919876500002"],
    ] {
        assert!(execute(&args(&bad), &admin).await.is_err(), "{bad:?}");
    }
}

#[test]
fn every_command_has_help() {
    use clap::{CommandFactory, Parser};
    let cli = otp_admin::Cli::command();
    cli.clone().debug_assert();
    let help = |words: &[&str]| {
        let error = otp_admin::Cli::try_parse_from(std::iter::once("otp-admin").chain(words.iter().copied()))
            .expect_err("help is not a command");
        assert_eq!(error.kind(), clap::error::ErrorKind::DisplayHelp, "{words:?}");
        error.to_string()
    };
    let top = help(&["--help"]);
    for command in ["init", "client", "config", "user", "test-destination"] {
        assert!(top.contains(command), "{top}");
    }
    let clients = help(&["client", "--help"]);
    for command in ["create", "list", "show", "update", "rotate-secret", "disable", "enable"] {
        assert!(clients.contains(command), "{clients}");
    }
    let configs = help(&["config", "--help"]);
    for command in ["create", "list", "show", "update", "delete"] {
        assert!(configs.contains(command), "{configs}");
    }
    let users = help(&["user", "--help"]);
    for command in ["import", "show", "unlink"] {
        assert!(users.contains(command), "{users}");
    }
    let tests = help(&["test-destination", "--help"]);
    for command in ["add", "list", "remove"] {
        assert!(tests.contains(command), "{tests}");
    }
    assert!(help(&["client", "update", "--help"]).contains("--sends-per-hour"));
    assert!(help(&["test-destination", "add", "--help"]).contains("--expires"));
}

#[tokio::test]
async fn clients_are_listed_rotated_disabled_and_changed() {
    let (admin, _) = admin().await;
    execute(&args(&["init"]), &admin).await.expect("init");
    let store = &admin.store;
    let created = execute(
        &args(&["client", "create", "--name", "Shop", "--permissions", "twilio,zap"]),
        &admin,
    )
    .await
    .expect("created");
    let id = created["client_id"].as_str().expect("id").to_owned();
    let (secret, key) = (
        created["client_secret"].as_str().expect("secret").to_owned(),
        created["api_key"].as_str().expect("key").to_owned(),
    );
    let listed = execute(&args(&["client", "list"]), &admin).await.expect("listed");
    let clients = listed["clients"].as_array().expect("a list");
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0]["client_id"], id.as_str());
    assert!(
        clients[0].get("client_secret").is_none(),
        "no secret is ever shown again"
    );
    assert_eq!(clients[0]["disabled"], false);

    // A rotated secret: the old one and the old key stop working at once.
    let rotated = execute(&args(&["client", "rotate-secret", "--client", &id]), &admin)
        .await
        .expect("rotated");
    let (new_secret, new_key) = (
        rotated["client_secret"].as_str().expect("secret"),
        rotated["api_key"].as_str().expect("key"),
    );
    assert_ne!(new_secret, secret);
    assert!(
        authenticate_client(store, Some(&id), Some(&secret), Permission::Twilio)
            .await
            .is_err()
    );
    assert!(authenticate_api_key(store, Some(&key), Permission::Zap).await.is_err());
    assert!(
        authenticate_client(store, Some(&id), Some(new_secret), Permission::Twilio)
            .await
            .is_ok()
    );
    assert!(
        authenticate_api_key(store, Some(new_key), Permission::Zap)
            .await
            .is_ok()
    );

    // Disabled: refused whatever the credentials; enabled again: accepted.
    let disabled = execute(&args(&["client", "disable", "--client", &id]), &admin)
        .await
        .expect("disabled");
    assert_eq!(disabled["disabled"], true);
    assert!(
        authenticate_client(store, Some(&id), Some(new_secret), Permission::Twilio)
            .await
            .is_err()
    );
    assert!(
        authenticate_api_key(store, Some(new_key), Permission::Zap)
            .await
            .is_err()
    );
    execute(&args(&["client", "enable", "--client", &id]), &admin)
        .await
        .expect("enabled");
    assert!(
        authenticate_api_key(store, Some(new_key), Permission::Zap)
            .await
            .is_ok()
    );

    // Name, permissions and limits change together; the show says so.
    let updated = execute(
        &args(&[
            "client",
            "update",
            "--client",
            &id,
            "--name",
            "Shop EU",
            "--permissions",
            "zap",
            "--sends-per-hour",
            "5000",
        ]),
        &admin,
    )
    .await
    .expect("updated");
    assert_eq!(updated["permissions"], serde_json::json!(["zap"]));
    let shown = execute(&args(&["client", "show", "--client", &id]), &admin)
        .await
        .expect("shown");
    assert_eq!(shown["name"], "Shop EU");
    assert_eq!(shown["limits"]["sends_per_hour"], 5000);
    assert!(
        authenticate_client(store, Some(&id), Some(new_secret), Permission::Twilio)
            .await
            .is_err(),
        "no longer permitted"
    );

    for bad in [
        vec!["client", "show", "--client", "nobody"],
        vec!["client", "rotate-secret", "--client", "nobody"],
        vec!["client", "disable", "--client", "nobody"],
        vec!["client", "update", "--client", &id, "--sends-per-hour", "0"],
        vec!["client", "update", "--client", &id, "--sends-per-hour", "lots"],
        vec!["client", "update", "--client", &id, "--permissions", "root"],
        vec!["client", "update", "--client", &id, "--name", " "],
        vec!["client", "show"],
    ] {
        let error = execute(&args(&bad), &admin).await.expect_err("refused");
        assert!(!error.is_empty(), "{bad:?} says why");
    }
}

#[tokio::test]
async fn configurations_are_listed_changed_and_deleted() {
    let (admin, _) = admin().await;
    execute(&args(&["init"]), &admin).await.expect("init");
    let client = execute(
        &args(&["client", "create", "--name", "A", "--permissions", "bizmagnets"]),
        &admin,
    )
    .await
    .expect("client");
    let other = execute(
        &args(&["client", "create", "--name", "B", "--permissions", "bizmagnets"]),
        &admin,
    )
    .await
    .expect("client");
    let create = |client: &str| {
        args(&[
            "config",
            "create",
            "--client",
            client,
            "--channel",
            "sms",
            "--length",
            "6",
            "--ttl",
            "300",
            "--template",
            "{code}",
            "--sender",
            "ACME",
        ])
    };
    let a = client["client_id"].as_str().expect("id");
    let b = other["client_id"].as_str().expect("id");
    let uid = execute(&create(a), &admin).await.expect("config")["otp_config_uid"]
        .as_str()
        .expect("uid")
        .to_owned();
    execute(&create(b), &admin).await.expect("config");
    let all = execute(&args(&["config", "list"]), &admin).await.expect("listed");
    assert_eq!(all["configs"].as_array().map(Vec::len), Some(2));
    let mine = execute(&args(&["config", "list", "--client", a]), &admin)
        .await
        .expect("listed");
    assert_eq!(mine["configs"][0]["otp_config_uid"], uid.as_str());
    assert_eq!(mine["configs"].as_array().map(Vec::len), Some(1));

    let updated = execute(
        &args(&[
            "config",
            "update",
            "--config",
            &uid,
            "--length",
            "8",
            "--template",
            "Code: {code}",
        ]),
        &admin,
    )
    .await
    .expect("updated");
    assert_eq!(
        (updated["length"].clone(), updated["ttl"].clone()),
        (8.into(), 300.into())
    );
    let stored = admin.store.config(&uid).await.expect("read").expect("there");
    assert_eq!(
        (stored.profile.code_length, stored.template.as_str()),
        (8, "Code: {code}")
    );
    for bad in [
        vec!["config", "update", "--config", &uid, "--length", "4"],
        vec!["config", "update", "--config", &uid, "--template", "no code"],
        vec!["config", "update", "--config", &uid, "--channel", "fax"],
        vec!["config", "update", "--config", "nothing", "--length", "6"],
        vec!["config", "show", "--config", "nothing"],
    ] {
        assert!(execute(&args(&bad), &admin).await.is_err(), "{bad:?}");
    }

    execute(&args(&["config", "delete", "--config", &uid]), &admin)
        .await
        .expect("deleted");
    assert_eq!(admin.store.config(&uid).await.expect("read"), None);
    assert!(
        execute(&args(&["config", "delete", "--config", &uid]), &admin)
            .await
            .is_err(),
        "gone"
    );
}

#[tokio::test]
async fn users_are_shown_and_contacts_unlinked() {
    let (admin, _) = admin().await;
    execute(&args(&["init"]), &admin).await.expect("init");
    execute(
        &args(&[
            "user",
            "import",
            "--product",
            "kgen",
            "--user-id",
            "u-9",
            "--issuer",
            "qt",
            "--phone",
            "+919876500009",
            "--email",
            "U9@Example.com",
        ]),
        &admin,
    )
    .await
    .expect("imported");
    let shown = execute(&words("user show --product kgen --issuer qt --user-id u-9"), &admin)
        .await
        .expect("shown");
    assert_eq!(shown["phone"], "+919876500009");
    assert_eq!(shown["email"], "U9@example.com");

    let unlinked = execute(&words(UNLINK_U9), &admin).await.expect("unlinked");
    assert_eq!(unlinked["unlinked_from"]["user_id"], "u-9");
    let shown = execute(&words("user show --product kgen --issuer qt --user-id u-9"), &admin)
        .await
        .expect("shown");
    assert_eq!(
        (shown["phone"].clone(), shown["email"].clone()),
        ("+919876500009".into(), serde_json::Value::Null)
    );
    let address = Destination::email("u9@example.com").expect("valid");
    let realm = otp_shared::scope::Realm::new(Product::Kgen, "qt");
    assert_eq!(admin.store.owner_of(&realm, &address).await.expect("read"), None);
    assert!(execute(&words(UNLINK_U9), &admin).await.is_err(), "nobody's now");
    let not_a_contact = words("user unlink --product kgen --issuer qt --contact 12345");
    assert!(execute(&not_a_contact, &admin).await.is_err());
    // Another product's or issuer's user is not asked: the contact is KGen's of qt.
    execute(
        &words("user import --product kgen --issuer qt --user-id u-9 --email u9@example.com"),
        &admin,
    )
    .await
    .expect("linked again");
    for elsewhere in ["--product bridgekeeper --issuer qt", "--product kgen --issuer other"] {
        let line = format!("user unlink {elsewhere} --contact u9@example.com");
        assert!(execute(&words(&line), &admin).await.is_err(), "{line}");
    }
}

const UNLINK_U9: &str = "user unlink --product kgen --issuer qt --contact u9@example.com";
