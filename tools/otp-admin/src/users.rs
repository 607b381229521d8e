//! `otp-admin user ...`: the registry of users and the contacts linked to them.

use otp_shared::clock::{Clock, SystemClock};
use otp_shared::destination::Destination;
use otp_shared::ports::{ContactKind, UserDirectory};
use otp_shared::scope::UserRef;
use serde_json::{Value, json};

use crate::{Admin, UserCommand};

pub(crate) async fn run(command: UserCommand, admin: &Admin) -> Result<Value, String> {
    match command {
        UserCommand::Import {
            user_id,
            issuer,
            phone,
            email,
        } => import(admin, &user(&issuer, &user_id)?, phone.as_deref(), email.as_deref()).await,
        UserCommand::Show { user_id, issuer } => {
            let user = user(&issuer, &user_id)?;
            let (phone, email) = tokio::join!(
                admin.store.contact_of(&user, ContactKind::Phone),
                admin.store.contact_of(&user, ContactKind::Email)
            );
            let (phone, email) = (phone.map_err(|e| e.to_string())?, email.map_err(|e| e.to_string())?);
            Ok(json!({
                "user": {"issuer": user.issuer, "user_id": user.id},
                "phone": phone.as_ref().map(Destination::as_str),
                "email": email.as_ref().map(Destination::as_str),
            }))
        }
        UserCommand::Unlink { contact } => {
            let destination = contact_of(&contact)?;
            let previous = admin.store.unlink(&destination).await.map_err(|e| e.to_string())?;
            let previous = previous.ok_or_else(|| format!("{contact} is linked to no user"))?;
            Ok(json!({
                "contact": destination.as_str(),
                "unlinked_from": {"issuer": previous.issuer, "user_id": previous.id},
            }))
        }
    }
}

fn user(issuer: &str, user_id: &str) -> Result<UserRef, String> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Err("--user-id is required".to_owned());
    }
    Ok(UserRef::new(issuer.trim(), user_id))
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
            "moved_from": moved_from.map(|previous| json!({"issuer": previous.issuer, "user_id": previous.id})),
        }));
    }
    Ok(json!({"user": {"issuer": user.issuer, "user_id": user.id}, "linked": linked}))
}
