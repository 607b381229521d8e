//! `otp-admin`: the operator's commands, each printing one JSON object (errors as
//! `{"error": ...}` on standard error, with a non-zero exit). `otp-admin --help`, and
//! `--help` after any command, say what each takes.

use clap::{Parser, Subcommand};
use otp_shared::ports::Permission;
use otp_shared::store::{DynamoStore, create_table};
use serde_json::{Value, json};

mod attempts;
mod clients;
mod configs;
mod guard;
mod spend;
mod test_destinations;
mod users;

/// The operator's commands. The table is `TABLE_NAME`, wherever the AWS SDK points
/// (`AWS_ENDPOINT_URL` for a local AWS); each command prints one JSON object.
#[derive(Debug, Parser)]
#[command(name = "otp-admin", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses a command line (the program's name first) as [`Parser::try_parse_from`] does,
    /// except that clap's error for a missing `--permissions` also names the permissions
    /// there are: an operator creating a client must choose them, and should not need
    /// `--help` to learn the names.
    pub fn try_parse_args<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::try_parse_from(args).map_err(with_permissions_named)
    }
}

/// Adds a tip naming every permission to clap's error when `--permissions` is missing;
/// any other error is returned as it is.
fn with_permissions_named(mut error: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    // clap names each missing argument as its usage shows it: `--permissions <PERMISSIONS>...`.
    let permissions_missing = error.kind() == ErrorKind::MissingRequiredArgument
        && matches!(
            error.get(ContextKind::InvalidArg),
            Some(ContextValue::Strings(missing)) if missing.iter().any(|arg| arg.starts_with("--permissions"))
        );
    if permissions_missing {
        let tip = format!(
            "--permissions takes what the client may call, comma-separated: one or more of {}",
            permission_names()
        );
        error.insert(ContextKind::Suggested, ContextValue::StyledStrs(vec![tip.into()]));
    }
    error
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Creates the table (with TTL) and the SES identity of `EMAIL_FROM` where the SDK
    /// points: for a local AWS (in AWS the template creates the table).
    Init,
    /// API clients: credentials, permissions, limits.
    #[command(subcommand)]
    Client(ClientCommand),
    /// OTP configurations: BizMagnets' configurations and Twilio's services.
    #[command(subcommand)]
    Config(Box<ConfigCommand>),
    /// The user registry: users and the contacts linked to them.
    #[command(subcommand)]
    User(UserCommand),
    /// Test destinations: phone numbers or addresses that take a known code and get no
    /// message, where the deployment allows them (`AllowTestDestinations`).
    #[command(subcommand)]
    TestDestination(TestDestinationCommand),
    /// The conversion guard against SMS pumping (docs/security.md).
    #[command(subcommand)]
    Guard(GuardCommand),
    /// The spend cap: estimated SMS and WhatsApp spend against its caps (docs/security.md).
    #[command(subcommand)]
    Spend(SpendCommand),
    /// Delivered messages (Twilio's Verification Attempts) of any tenant, and how many
    /// converted: what Twilio's Attempts show each client of its own.
    #[command(subcommand)]
    Attempts(AttemptsCommand),
}

/// Which of a tenant's attempts a command reads.
#[derive(Debug, Clone, clap::Args)]
pub struct AttemptsArgs {
    /// The tenant as logs name it: `client:<id>`, `public:bridgekeeper`, `issuer:...`.
    #[arg(long, value_parser = tenant_arg)]
    pub tenant: String,
    /// The days to look back, today included (1 to 30).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=30))]
    pub days: u16,
    /// Only the numbers of this country, ISO 3166 alpha-2.
    #[arg(long, value_parser = country_arg)]
    pub country: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AttemptsCommand {
    /// A tenant's attempts, newest first.
    List {
        #[command(flatten)]
        of: AttemptsArgs,
        /// Only those whose code was verified (`converted`), or not (`unconverted`).
        #[arg(long, value_parser = ["converted", "unconverted"])]
        status: Option<String>,
        /// At most this many (1 to 1,000).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1000))]
        limit: u16,
    },
    /// How many of a tenant's attempts converted, in all and by country.
    Summary {
        #[command(flatten)]
        of: AttemptsArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum SpendCommand {
    /// This month's estimated spend against the deployment's cap, and, for each tenant
    /// and country named, the tenant's month and the country's current hour. The caps
    /// are read from the same `OTP_SPEND_*` variables the functions take (their
    /// defaults when unset): give it the stack's values.
    Status {
        /// A tenant as logs name it: `client:<id>`, `public:bridgekeeper`, `issuer:...`.
        #[arg(long = "tenant", value_parser = tenant_arg)]
        tenants: Vec<String>,
        /// A country, ISO 3166 alpha-2 (`IN`).
        #[arg(long = "country", value_parser = country_arg)]
        countries: Vec<String>,
    },
}

fn tenant_arg(text: &str) -> Result<String, String> {
    let text = text.trim();
    match ["client:", "issuer:", "public:"]
        .iter()
        .any(|kind| text.starts_with(kind))
    {
        true => Ok(text.to_owned()),
        false => Err("a tenant as logs name it: client:<id>, issuer:..., public:<product>".to_owned()),
    }
}

fn country_arg(text: &str) -> Result<String, String> {
    let text = text.trim();
    match text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        true => Ok(text.to_ascii_uppercase()),
        false => Err("an ISO 3166 alpha-2 code, such as IN".to_owned()),
    }
}

#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// The number prefixes whose sends the guard holds now, per tenant: until when, how
    /// many cool-offs in a row, and the counts that explain it against their allowance.
    Status,
}

/// A client's own limit: a number, or `default` for the deployment's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitArg {
    Default,
    Value(u64),
}

fn parse_limit(text: &str) -> Result<LimitArg, String> {
    match text.trim() {
        "default" => Ok(LimitArg::Default),
        number => number
            .parse()
            .map(LimitArg::Value)
            .map_err(|_| "a whole number, or `default`".to_owned()),
    }
}

/// A client named by its id or its account SID: its id.
fn client_arg(text: &str) -> Result<String, String> {
    Ok(otp_shared::sid::client_id(text.trim()).into_owned())
}

/// A configuration named by its uid or its Service SID: its uid.
fn config_arg(text: &str) -> Result<String, String> {
    Ok(otp_shared::sid::config_uid(text.trim()).into_owned())
}

/// Every permission a client may be granted, by name: `kgen-proxy, bizmagnets, zap, twilio`.
fn permission_names() -> String {
    let names: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
    names.join(", ")
}

fn parse_permission(text: &str) -> Result<Permission, String> {
    Permission::parse(text.trim()).ok_or_else(|| format!("unknown permission {text}: one of {}", permission_names()))
}

/// The help of `client create --permissions`, naming the permissions from the one list.
fn create_permissions_help() -> String {
    format!(
        "What it may call, comma-separated: one or more of {}. Required: a client gets only what it is granted",
        permission_names()
    )
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Registers a client and prints its id, secret and API key, once: only their
    /// hashes are stored.
    Create {
        #[arg(long)]
        name: String,
        // Required, with no default: a default of every permission granted each client
        // more than it needs unless the operator remembered to narrow it.
        #[arg(
            long,
            required = true,
            value_delimiter = ',',
            value_parser = parse_permission,
            help = create_permissions_help()
        )]
        permissions: Vec<Permission>,
        /// Its own hourly send limit (1 to 1,000,000); the deployment's when not given.
        #[arg(long, value_parser = parse_limit)]
        sends_per_hour: Option<LimitArg>,
        /// Its own hourly limit per number range; the deployment's when not given.
        #[arg(long, value_parser = parse_limit)]
        sends_per_number_range_per_hour: Option<LimitArg>,
    },
    /// Lists every client (no secrets: only hashes are stored).
    List,
    /// Shows one client.
    Show {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: String,
    },
    /// Changes a client's name, permissions or limits (`default`: the deployment's);
    /// effective from its next request.
    Update {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_delimiter = ',', value_parser = parse_permission)]
        permissions: Option<Vec<Permission>>,
        #[arg(long, value_parser = parse_limit)]
        sends_per_hour: Option<LimitArg>,
        #[arg(long, value_parser = parse_limit)]
        sends_per_number_range_per_hour: Option<LimitArg>,
    },
    /// Gives a client a new secret and API key, printed once; the old ones stop working
    /// at once.
    RotateSecret {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: String,
    },
    /// Refuses every request of a client from now on, whatever its credentials.
    Disable {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: String,
    },
    /// Takes a disabled client back.
    Enable {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: String,
    },
    /// A client's API keys: Twilio's `SK...` and a secret, taken in Basic auth beside
    /// the client's auth token, each revocable alone.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Makes a key and prints its SID and secret, once: only the secret's hash is kept.
    /// It works from the client's next request.
    Create {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: String,
        /// What the key is for (up to 64 characters).
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Lists a client's keys: SIDs, names and when they were made.
    List {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: String,
    },
    /// Revokes a key: the client's next request with it is refused.
    Revoke {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: String,
        /// The key's SID (`SK...`).
        #[arg(long)]
        key: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Creates an OTP configuration of a client; prints its uid (BizMagnets'
    /// `otp_config_uid`, Twilio's Service SID).
    Create {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: String,
        #[arg(long, value_parser = ["sms", "email", "whatsapp", "call"])]
        channel: String,
        /// Digits per code (6 to 10).
        #[arg(long)]
        length: u8,
        /// Seconds a code stays valid (60 to 600).
        #[arg(long)]
        ttl: u64,
        /// The message: `{code}` required; `{minutes}`, `{name}`, `{sender}` optional; or
        /// `built-in`, the built-in texts in each message's language (a call's only
        /// choice). For whatsapp, the SMS text when it falls back.
        #[arg(long)]
        template: String,
        /// An SMS sender ID (1 to 11 letters and digits), or an email's display name.
        #[arg(long)]
        sender: String,
        #[command(flatten)]
        whatsapp: WhatsAppArgs,
    },
    /// Lists the configurations, of one client or of all.
    List {
        /// The client's id, or its account SID (`AC...`).
        #[arg(long, value_parser = client_arg)]
        client: Option<String>,
    },
    /// Shows one configuration.
    Show {
        /// The configuration's uid, or its Service SID (`VA...`).
        #[arg(long, value_parser = config_arg)]
        config: String,
    },
    /// Changes a configuration's settings; its next send uses them.
    Update {
        /// The configuration's uid, or its Service SID (`VA...`).
        #[arg(long, value_parser = config_arg)]
        config: String,
        #[arg(long, value_parser = ["sms", "email", "whatsapp", "call"])]
        channel: Option<String>,
        #[arg(long)]
        length: Option<u8>,
        #[arg(long)]
        ttl: Option<u64>,
        #[arg(long)]
        template: Option<String>,
        #[arg(long)]
        sender: Option<String>,
        #[command(flatten)]
        whatsapp: WhatsAppArgs,
        #[command(flatten)]
        languages: LanguageArgs,
    },
    /// Deletes a configuration: its sends stop at once.
    Delete {
        /// The configuration's uid, or its Service SID (`VA...`).
        #[arg(long, value_parser = config_arg)]
        config: String,
    },
    /// Adds the configurations made before clients kept an index of their services to
    /// that index, so that Twilio's Services list shows them (once, after upgrading; safe
    /// to run again).
    Index,
    /// The channels a configuration sends by besides its default (a Twilio service that
    /// sends by SMS and by email): requests that name one use it.
    #[command(subcommand)]
    Channel(ChannelCommand),
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Enables a channel besides the default, with its own template and sender (or sets
    /// them anew); its next send uses them.
    Set {
        /// The configuration's uid, or its Service SID (`VA...`).
        #[arg(long, value_parser = config_arg)]
        config: String,
        #[arg(long, value_parser = ["sms", "email", "whatsapp", "call"])]
        channel: String,
        #[arg(long)]
        template: String,
        #[arg(long)]
        sender: String,
        #[command(flatten)]
        whatsapp: WhatsAppArgs,
    },
    /// Disables a channel besides the default: its next request by it is refused.
    Remove {
        /// The configuration's uid, or its Service SID (`VA...`).
        #[arg(long, value_parser = config_arg)]
        config: String,
        #[arg(long, value_parser = ["sms", "email", "whatsapp", "call"])]
        channel: String,
    },
}

/// The WhatsApp template of a `whatsapp` configuration (AWS End User Messaging Social).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WhatsAppArgs {
    /// The business number that sends: `phone-number-id-...` (or its ARN).
    #[arg(long)]
    pub whatsapp_phone_number_id: Option<String>,
    /// The approved authentication template's name.
    #[arg(long)]
    pub whatsapp_template: Option<String>,
    /// The template's language, as approved (`en_US`).
    #[arg(long)]
    pub whatsapp_language: Option<String>,
    /// Send the text by SMS when WhatsApp refuses the recipient (true or false).
    #[arg(long)]
    pub fallback_to_sms: Option<bool>,
}

/// How a configuration's messages follow languages (docs/languages.md), and its autofill.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LanguageArgs {
    /// The language of its messages when a request names none, before the number's
    /// country's: a built-in locale (`es`, `pt-BR`); empty: none.
    #[arg(long)]
    pub language: Option<String>,
    /// Its own text for a locale, in place of its template there: `es={code} es tu
    /// código`. Repeat for each locale; an empty text removes that locale's.
    #[arg(long = "locale-template", value_parser = locale_pair)]
    pub locale_templates: Vec<(String, String)>,
    /// The language its WhatsApp template is approved in for a locale: `es=es_MX`.
    /// Repeat for each locale; an empty one removes that locale's.
    #[arg(long = "whatsapp-locale", value_parser = locale_pair)]
    pub whatsapp_locales: Vec<(String, String)>,
    /// The site that reads its SMS codes (the WebOTP line `@domain #code` ends each SMS);
    /// empty: none.
    #[arg(long)]
    pub web_domain: Option<String>,
    /// Its Android app's 11-character hash (Android's SMS Retriever), on a line of its
    /// own in each SMS; empty: none.
    #[arg(long)]
    pub app_hash: Option<String>,
}

/// `locale=value`.
fn locale_pair(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(tag, value)| (tag.trim().to_owned(), value.to_owned()))
        .ok_or_else(|| "a locale and its value: es=...".to_owned())
}

/// Whose user: a product that keeps users, and the issuer that vouches for them there.
#[derive(Debug, Clone, clap::Args)]
pub struct RealmArgs {
    /// The product whose user it is: kgen, bridgekeeper or zap. Each keeps users of its
    /// own: a contact linked in one is nothing to another.
    #[arg(long, value_parser = parse_user_product)]
    pub product: otp_shared::scope::Product,
    /// The `iss` of the user's JWTs (empty when tokens carry none); for zap, the API
    /// client whose users they are (empty when ZAP takes no API key).
    #[arg(long, default_value = "")]
    pub issuer: String,
}

fn parse_user_product(text: &str) -> Result<otp_shared::scope::Product, String> {
    use otp_shared::scope::Product;
    Product::parse(text.trim())
        .filter(|product| Product::WITH_USERS.contains(product))
        .ok_or_else(|| {
            let names: Vec<&str> = Product::WITH_USERS.iter().map(|p| p.name()).collect();
            format!("unknown product {text}: one of {}", names.join(", "))
        })
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Records a user of a product with its contacts (each linked to it, moved from any
    /// other user of the same product and issuer).
    Import {
        #[command(flatten)]
        realm: RealmArgs,
        #[arg(long)]
        user_id: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Shows a user's contacts on record.
    Show {
        #[command(flatten)]
        realm: RealmArgs,
        #[arg(long)]
        user_id: String,
    },
    /// Unlinks a contact (a phone number or an address) from whichever user of the
    /// product and issuer has it.
    Unlink {
        #[command(flatten)]
        realm: RealmArgs,
        #[arg(long)]
        contact: String,
    },
    /// Moves the contacts linked before products kept their users apart into the
    /// products that now serve their users, then deletes the old entries it placed. A ZAP
    /// user's contacts (issuer `zap:<client>`, an existing client) go to ZAP; any other
    /// user's to KGen and, when its issuer is one of `--bridgekeeper-issuers`, to
    /// Bridgekeeper. A link made since the deploy is kept. Safe to run again.
    #[command(group(clap::ArgGroup::new("bridgekeeper").required(true).args(["bridgekeeper_issuers", "no_bridgekeeper"])))]
    Migrate {
        /// The issuers Bridgekeeper serves: the deployment's `BRIDGEKEEPER_ISSUERS`.
        #[arg(long, value_delimiter = ',')]
        bridgekeeper_issuers: Vec<String>,
        /// The deployment serves no Bridgekeeper users (said, never assumed: a contact
        /// placed without them is not placed again).
        #[arg(long)]
        no_bridgekeeper: bool,
        /// Leave KGen out: its users were never linked by these contacts.
        #[arg(long)]
        skip_kgen: bool,
        /// Delete the contacts of users no product serves; without it they are kept, and
        /// listed.
        #[arg(long)]
        drop_unserved: bool,
        /// Say what would move, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Whose requests a test destination answers: one client's, or those that name none.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct OwnerArgs {
    /// The API client whose requests it answers (its id, or its account SID).
    #[arg(long, value_parser = client_arg)]
    pub client: Option<String>,
    /// Requests that name no API client (Bridgekeeper, ZAP without an API key, KGen's
    /// frontend).
    #[arg(long)]
    pub public: bool,
}

#[derive(Debug, Subcommand)]
pub enum TestDestinationCommand {
    /// Adds (or replaces) a test destination: its sends deliver nothing and make `--code`
    /// the code to verify, until the end of `--expires` (UTC). Budgets and attempts apply
    /// as to any destination; every use is logged. Needs `OTP_HMAC_KEYS` (the code is
    /// stored sealed).
    Add {
        #[command(flatten)]
        owner: OwnerArgs,
        /// A phone number (E.164) or an email address.
        #[arg(long)]
        to: String,
        /// The known code: 6 to 10 digits.
        #[arg(long)]
        code: String,
        /// The last day it applies, YYYY-MM-DD (at most a year ahead).
        #[arg(long)]
        expires: String,
    },
    /// Lists the test destinations of a client (or the public ones), expired ones marked.
    List {
        #[command(flatten)]
        owner: OwnerArgs,
    },
    /// Removes a test destination: its next send is delivered as any other.
    Remove {
        #[command(flatten)]
        owner: OwnerArgs,
        #[arg(long)]
        to: String,
    },
}

/// What the commands work on.
#[derive(Debug, Clone)]
pub struct Admin {
    pub store: DynamoStore,
    pub ses: aws_sdk_sesv2::Client,
    /// The sender address of the deployment's email (`EMAIL_FROM`).
    pub email_from: Option<String>,
    /// The deployment's code keys (`OTP_HMAC_KEYS`), to seal a test destination's code.
    pub code_keys: Option<otp_shared::code::CodeKeys>,
    /// The deployment's spend caps (`OTP_SPEND_*`), to show the spend against them.
    pub spend: otp_shared::spend::SpendSettings,
    /// The time the windowed figures (the guard's hour, the spend's month) are read at.
    pub clock: std::sync::Arc<dyn otp_shared::clock::Clock>,
}

/// Parses `args` (the words after `otp-admin`) and runs the command; the answer to
/// print, or what went wrong (a usage error says what `--help` would).
pub async fn execute(args: &[String], admin: &Admin) -> Result<Value, String> {
    let cli = Cli::try_parse_args(std::iter::once("otp-admin".to_owned()).chain(args.iter().cloned()))
        .map_err(|error| error.to_string())?;
    run(cli.command, admin).await
}

/// Runs one parsed command.
pub async fn run(command: Command, admin: &Admin) -> Result<Value, String> {
    match command {
        Command::Init => init(admin).await,
        Command::Client(command) => clients::run(command, admin).await,
        Command::Config(command) => configs::run(*command, admin).await,
        Command::User(command) => users::run(command, admin).await,
        Command::TestDestination(command) => test_destinations::run(command, admin).await,
        Command::Guard(command) => guard::run(command, admin).await,
        Command::Spend(command) => spend::run(command, admin).await,
        Command::Attempts(command) => attempts::run(command, admin).await,
    }
}

async fn init(admin: &Admin) -> Result<Value, String> {
    let store = &admin.store;
    let created = create_table(store.dynamodb(), store.table())
        .await
        .map_err(|error| error.to_string())?;
    let mut answer = json!({"table": store.table(), "created": created});
    if let Some(from) = &admin.email_from {
        let exists = match admin.ses.get_email_identity().email_identity(from).send().await {
            Ok(_) => true,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found_exception()) => false,
            Err(error) => {
                return Err(format!(
                    "SES identity {from}: {}",
                    aws_sdk_sesv2::error::DisplayErrorContext(error)
                ));
            }
        };
        if !exists {
            let created = admin.ses.create_email_identity().email_identity(from).send().await;
            match created {
                Ok(_) => {}
                // Created meanwhile by another caller: the identity is there, as wanted.
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_already_exists_exception()) => {}
                Err(error) => {
                    return Err(format!(
                        "SES identity {from}: {}",
                        aws_sdk_sesv2::error::DisplayErrorContext(error)
                    ));
                }
            }
        }
        let identity_created = !exists;
        answer["email_identity"] = json!({"identity": from, "created": identity_created});
    }
    Ok(answer)
}
