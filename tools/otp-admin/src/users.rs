//! `otp-admin user ...`: the registry of users and the contacts linked to them, per product
//! and issuer.

use std::collections::HashMap;

use otp_shared::clock::{Clock, SystemClock};
use otp_shared::destination::Destination;
use otp_shared::ports::{ClientRegistry, ContactKind, UserDirectory};
use otp_shared::scope::{Product, Realm, UserRef};
use otp_shared::store::{LegacyContact, Placement};
use serde_json::{Value, json};

use crate::{Admin, RealmArgs, UserCommand};

pub(crate) async fn run(command: UserCommand, admin: &Admin) -> Result<Value, String> {
    match command {
        UserCommand::Import {
            realm,
            user_id,
            phone,
            email,
        } => import(admin, &user(&realm, &user_id)?, phone.as_deref(), email.as_deref()).await,
        UserCommand::Show { realm, user_id } => {
            let user = user(&realm, &user_id)?;
            let (phone, email) = tokio::join!(
                admin.store.contact_of(&user, ContactKind::Phone),
                admin.store.contact_of(&user, ContactKind::Email)
            );
            let (phone, email) = (phone.map_err(|e| e.to_string())?, email.map_err(|e| e.to_string())?);
            Ok(json!({
                "user": shown(&user),
                "phone": phone.as_ref().map(Destination::as_str),
                "email": email.as_ref().map(Destination::as_str),
            }))
        }
        UserCommand::Unlink { realm, contact } => {
            let destination = contact_of(&contact)?;
            let realm = Realm::new(realm.product, realm.issuer.trim());
            let previous = admin
                .store
                .unlink(&realm, &destination)
                .await
                .map_err(|e| e.to_string())?;
            let previous = previous.ok_or_else(|| {
                format!(
                    "{contact} is linked to no {} user of issuer {:?}",
                    realm.product, realm.issuer
                )
            })?;
            Ok(json!({
                "contact": destination.as_str(),
                "unlinked_from": shown(&previous),
            }))
        }
        UserCommand::Migrate {
            bridgekeeper_issuers,
            no_bridgekeeper: _,
            skip_kgen,
            drop_unserved,
            dry_run,
        } => {
            let targets = Targets {
                bridgekeeper_issuers: bridgekeeper_issuers.iter().map(|i| i.trim().to_owned()).collect(),
                kgen: !skip_kgen,
                zap_clients: HashMap::new(),
            };
            migrate(admin, targets, drop_unserved, dry_run).await
        }
    }
}

/// A user as the commands print it.
fn shown(user: &UserRef) -> Value {
    json!({"product": user.product.name(), "issuer": user.issuer, "user_id": user.id})
}

fn user(realm: &RealmArgs, user_id: &str) -> Result<UserRef, String> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err("--user-id is required".to_owned());
    }
    Ok(UserRef::new(realm.product, realm.issuer.trim(), user_id))
}

/// A phone number (`+` and digits) or an address.
pub(crate) fn contact_of(contact: &str) -> Result<Destination, String> {
    if contact.trim_start().starts_with('+') {
        Destination::e164(contact).map_err(|_| format!("{contact} is not an E.164 number"))
    } else {
        Destination::email(contact).map_err(|_| format!("{contact} is neither an E.164 number nor an address"))
    }
}

async fn import(admin: &Admin, user: &UserRef, phone: Option<&str>, email: Option<&str>) -> Result<Value, String> {
    let mut contacts = Vec::new();
    if let Some(phone) = phone {
        contacts.push(Destination::e164(phone).map_err(|_| format!("--phone {phone} is not an E.164 number"))?);
    }
    if let Some(email) = email {
        contacts.push(Destination::email(email).map_err(|_| format!("--email {email} is not an email address"))?);
    }
    if contacts.is_empty() {
        return Err("give --phone, --email or both".to_owned());
    }
    let now = SystemClock.now();
    let mut linked = Vec::new();
    for contact in &contacts {
        let moved_from = admin.store.link(contact, user, now).await.map_err(|e| e.to_string())?;
        linked.push(json!({
            "contact": contact.as_str(),
            "moved_from": moved_from.as_ref().map(shown),
        }));
    }
    Ok(json!({"user": shown(user), "linked": linked}))
}

/// Which products a legacy contact's user now belongs to.
struct Targets {
    bridgekeeper_issuers: Vec<String>,
    kgen: bool,
    /// Whether each client a `zap:<client>` issuer names exists, as read.
    zap_clients: HashMap<String, bool>,
}

/// The issuers ZAP's users were written under: `zap:<client id>`.
const LEGACY_ZAP_PREFIX: &str = "zap:";

impl Targets {
    /// The users a legacy contact's user is now: ZAP's user of its client (when that
    /// client exists: otherwise the issuer was a token's, spelled alike), or KGen's and
    /// (for Bridgekeeper's issuers) Bridgekeeper's user of the same issuer and id.
    async fn users_of(&mut self, legacy: &LegacyContact, admin: &Admin) -> Result<Vec<UserRef>, String> {
        if let Some(client) = legacy.issuer.strip_prefix(LEGACY_ZAP_PREFIX) {
            let exists = match self.zap_clients.get(client) {
                Some(exists) => *exists,
                None => {
                    let exists = admin.store.client(client).await.map_err(|e| e.to_string())?.is_some();
                    self.zap_clients.insert(client.to_owned(), exists);
                    exists
                }
            };
            if exists {
                return Ok(vec![UserRef::new(Product::Zap, client, &legacy.user_id)]);
            }
        }
        let mut users = Vec::new();
        if self.kgen {
            users.push(UserRef::new(Product::Kgen, &legacy.issuer, &legacy.user_id));
        }
        if self.bridgekeeper_issuers.contains(&legacy.issuer) {
            users.push(UserRef::new(Product::Bridgekeeper, &legacy.issuer, &legacy.user_id));
        }
        Ok(users)
    }
}

/// Places every legacy contact in its user's products, then deletes each legacy contact
/// so placed, and each legacy user record none of whose contacts is left. Each placement
/// writes only where nothing was linked since, so a run cut short is run again to the
/// same end.
async fn migrate(admin: &Admin, mut targets: Targets, drop_unserved: bool, dry_run: bool) -> Result<Value, String> {
    let contacts = admin.store.legacy_contacts().await.map_err(|e| e.to_string())?;
    let users = admin.store.legacy_users().await.map_err(|e| e.to_string())?;
    let now = SystemClock.now();
    let (mut placements, mut linked, mut already, mut bridgekeeper) = (0u64, 0u64, 0u64, 0u64);
    let (mut kept, mut unserved) = (Vec::new(), Vec::new());
    let mut done: Vec<&LegacyContact> = Vec::new();
    for legacy in &contacts {
        let owners = targets.users_of(legacy, admin).await?;
        if owners.is_empty() {
            unserved.push(json!({
                "contact": legacy.destination.as_str(),
                "user": {"issuer": legacy.issuer, "user_id": legacy.user_id},
            }));
            if drop_unserved {
                done.push(legacy);
            }
            continue;
        }
        for owner in owners {
            placements += 1;
            if owner.product == Product::Bridgekeeper {
                bridgekeeper += 1;
            }
            if dry_run {
                continue;
            }
            match admin
                .store
                .place_legacy(&legacy.destination, &owner, now)
                .await
                .map_err(|e| e.to_string())?
            {
                Placement::Linked => linked += 1,
                Placement::AlreadyThere => already += 1,
                Placement::Kept => kept.push(json!({
                    "contact": legacy.destination.as_str(),
                    "user": shown(&owner),
                })),
            }
        }
        done.push(legacy);
    }
    // A legacy user record goes once none of its contacts is left in the old form.
    let placed: std::collections::HashSet<&str> = done.iter().map(|legacy| legacy.pk.as_str()).collect();
    let left: std::collections::HashSet<&str> = contacts
        .iter()
        .filter(|legacy| !placed.contains(legacy.pk.as_str()))
        .map(|legacy| legacy.user_pk.as_str())
        .collect();
    let records: Vec<&String> = users.iter().filter(|pk| !left.contains(pk.as_str())).collect();
    let mut deleted = 0usize;
    if !dry_run {
        for pk in done.iter().map(|legacy| &legacy.pk).chain(records.iter().copied()) {
            admin.store.delete_legacy(pk).await.map_err(|e| e.to_string())?;
            deleted += 1;
        }
    }
    Ok(json!({
        "dry_run": dry_run,
        "legacy_contacts": contacts.len(),
        "legacy_users": users.len(),
        // A contact goes to each product that serves its user.
        "placements": placements,
        // Old links do not say which product made them: review these users' contacts
        // (`user show --product bridgekeeper`), the second factor goes to them.
        "bridgekeeper_placements": bridgekeeper,
        "linked": linked,
        "already_linked": already,
        // Linked since the deploy to someone else, or the user has another contact of
        // that kind now: the newer link stands.
        "kept_newer": kept,
        // Users of no product this deployment serves: deleted with --drop-unserved, else
        // left in the old form.
        "unserved": unserved,
        "deleted": deleted,
    }))
}
