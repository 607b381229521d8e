//! Every route of the HTTP API: the key API Gateway writes in each event (`routeKey`,
//! e.g. `POST /otp/{otp_uid}/verifyOTP`), the function that serves it and what it does.
//! A function dispatches once, on that key, from this table; `template.yaml` declares the
//! same routes, and the local server's test checks that both say the same, so a new route
//! lands in both together.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// One Lambda function of the template (its binary's name is `name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Register,
    Resend,
    Verify,
    SendOtp,
    Generate,
}

impl Function {
    /// The binary's name, as the template's `BuildProperties` name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Resend => "resend",
            Self::Verify => "verify",
            Self::SendOtp => "send-otp",
            Self::Generate => "generate",
        }
    }
}

/// What a route does, in the product's own terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// KGen's register and resend (either surface): a code on the open challenge or a new one.
    KgenSend,
    KgenVerify,
    BizmagnetsSend,
    BizmagnetsVerify,
    ZapGenerate,
    ZapVerify,
    BridgekeeperSend,
    BridgekeeperVerify,
    BridgekeeperUpdateWithOtp,
    /// Twilio's create of a verification.
    TwilioCreate,
    TwilioCheck,
    /// Twilio's fetch (`GET`) and update (`POST`) of one verification.
    TwilioVerification,
    /// Twilio's list (`GET`) and create (`POST`) of services.
    TwilioServices,
    /// Twilio's fetch, update and delete of one service.
    TwilioService,
    /// Twilio's list of verification attempts.
    TwilioAttempts,
    /// Twilio's fetch of one attempt.
    TwilioAttempt,
    /// Twilio's summary of attempts: how many converted.
    TwilioAttemptsSummary,
    /// `$default`: whatever no declared route took (another method, a final `/`, an
    /// unknown path).
    Unrouted,
}

/// The product whose shapes a route's answers take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Kgen,
    Bizmagnets,
    Zap,
    Bridgekeeper,
    Twilio,
}

impl Operation {
    /// The dialect of the route's answers (none for `$default`).
    pub fn dialect(self) -> Option<Dialect> {
        Some(match self {
            Self::KgenSend | Self::KgenVerify => Dialect::Kgen,
            Self::BizmagnetsSend | Self::BizmagnetsVerify => Dialect::Bizmagnets,
            Self::ZapGenerate | Self::ZapVerify => Dialect::Zap,
            Self::BridgekeeperSend | Self::BridgekeeperVerify | Self::BridgekeeperUpdateWithOtp => {
                Dialect::Bridgekeeper
            }
            Self::TwilioCreate
            | Self::TwilioCheck
            | Self::TwilioVerification
            | Self::TwilioServices
            | Self::TwilioService
            | Self::TwilioAttempts
            | Self::TwilioAttempt
            | Self::TwilioAttemptsSummary => Dialect::Twilio,
            Self::Unrouted => return None,
        })
    }
}

/// One route: `method` and `path` as the template declares them (`{name}` a path
/// parameter; the method `ANY` and the path `$default` for the default route).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
    pub operation: Operation,
}

/// The path of the default route.
pub const DEFAULT: &str = "$default";

impl Route {
    /// API Gateway's route key: `POST /v1/otp`, or `$default`.
    pub fn key(&self) -> String {
        if self.path == DEFAULT {
            DEFAULT.to_owned()
        } else {
            format!("{} {}", self.method, self.path)
        }
    }

    fn has_key(&self, key: &str) -> bool {
        if self.path == DEFAULT {
            return key == DEFAULT;
        }
        key.split_once(' ')
            .is_some_and(|(method, path)| method == self.method && path == self.path)
    }

    /// Whether a concrete path is this route's: each literal segment equal, each
    /// parameter a non-empty segment.
    pub fn matches_path(&self, path: &str) -> bool {
        if self.path == DEFAULT {
            return false;
        }
        let mut declared = self.path.split('/');
        let mut actual = path.split('/');
        loop {
            match (declared.next(), actual.next()) {
                (None, None) => return true,
                (Some(declared), Some(actual)) if declared.starts_with('{') => {
                    if actual.is_empty() {
                        return false;
                    }
                }
                (Some(declared), Some(actual)) if declared == actual => {}
                _ => return false,
            }
        }
    }
}

const fn route(method: &'static str, path: &'static str, function: Function, operation: Operation) -> Route {
    Route {
        method,
        path,
        function,
        operation,
    }
}

use Function::{Generate, Register, Resend, SendOtp, Verify};
use Operation::*;

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    route("POST", "/fe/users/auth/otp/register", Register, KgenSend),
    route("POST", "/api/proxy/auth/otp/register", Register, KgenSend),
    route("POST", "/fe/users/auth/otp/resend", Resend, KgenSend),
    route("POST", "/api/proxy/auth/otp/resend", Resend, KgenSend),
    route("POST", "/fe/users/auth/otp/verify", Verify, KgenVerify),
    route("POST", "/api/proxy/auth/otp/verify", Verify, KgenVerify),
    route("POST", "/otp/{otp_uid}/verifyOTP", Verify, BizmagnetsVerify),
    route("POST", "/v1/otp/verify", Verify, ZapVerify),
    route("POST", "/api/v1/otp/verify", Verify, ZapVerify),
    route("POST", "/api/auth/v1/users/verify-otp", Verify, BridgekeeperVerify),
    route(
        "POST",
        "/api/auth/v1/users/update-with-otp",
        Verify,
        BridgekeeperUpdateWithOtp,
    ),
    route(
        "POST",
        "/v2/Services/{ServiceSid}/VerificationCheck",
        Verify,
        TwilioCheck,
    ),
    route(
        "GET",
        "/v2/Services/{ServiceSid}/Verifications/{Sid}",
        Verify,
        TwilioVerification,
    ),
    route(
        "POST",
        "/v2/Services/{ServiceSid}/Verifications/{Sid}",
        Verify,
        TwilioVerification,
    ),
    route("POST", "/v2/Services", Verify, TwilioServices),
    route("GET", "/v2/Services", Verify, TwilioServices),
    route("GET", "/v2/Services/{ServiceSid}", Verify, TwilioService),
    route("POST", "/v2/Services/{ServiceSid}", Verify, TwilioService),
    route("DELETE", "/v2/Services/{ServiceSid}", Verify, TwilioService),
    route("GET", "/v2/Attempts", Verify, TwilioAttempts),
    route("GET", "/v2/Attempts/Summary", Verify, TwilioAttemptsSummary),
    route("GET", "/v2/Attempts/{Sid}", Verify, TwilioAttempt),
    route("POST", "/otp/{otp_config_uid}/sendOTP", SendOtp, BizmagnetsSend),
    route("POST", "/api/auth/v1/users/send-otp", SendOtp, BridgekeeperSend),
    route("POST", "/v2/Services/{ServiceSid}/Verifications", SendOtp, TwilioCreate),
    route("POST", "/v1/otp", Generate, ZapGenerate),
    route("POST", "/api/v1/otp", Generate, ZapGenerate),
    route("ANY", DEFAULT, Generate, Unrouted),
];

/// The route API Gateway chose for `request` (its event's `routeKey`).
pub fn of(request: &Request) -> Option<&'static Route> {
    let key = match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.route_key.as_deref()?,
        _ => return None,
    };
    ROUTES.iter().find(|route| route.has_key(key))
}

/// The operation `function` performs for `request`: none when the event's route is
/// another function's, which only a template out of step with this table could cause.
pub fn served_by(function: Function, request: &Request) -> Option<Operation> {
    let route = of(request);
    match route {
        Some(route) if route.function == function => Some(route.operation),
        _ => {
            tracing::error!(
                function = function.name(),
                route = route.map(|route| route.key()).as_deref().unwrap_or("none"),
                "an event of a route this function does not serve: template.yaml and the route table disagree"
            );
            None
        }
    }
}

/// The declared routes whose path matches `path` (a final `/` ignored, as the products'
/// clients send it), any method.
pub fn declared_at(path: &str) -> impl Iterator<Item = &'static Route> + '_ {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    ROUTES.iter().filter(move |route| route.matches_path(path))
}

/// The methods the routes at `path` take, for a 405's `Allow`: `DELETE, GET, POST`.
pub fn allowed_methods(path: &str) -> Option<String> {
    let mut methods: Vec<&str> = declared_at(path).map(|route| route.method).collect();
    methods.sort_unstable();
    methods.dedup();
    (!methods.is_empty()).then(|| methods.join(", "))
}

/// The declared route of `method` at `path` (a final `/` ignored): where a literal
/// segment and a parameter both match (`/v2/Attempts/Summary`, `/v2/Attempts/{Sid}`),
/// the literal one, as API Gateway picks the most specific route.
pub fn declared(method: &str, path: &str) -> Option<&'static Route> {
    declared_at(path)
        .filter(|route| route.method == method)
        .min_by_key(|route| route.path.matches('{').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_parse_back() {
        for (index, route) in ROUTES.iter().enumerate() {
            let key = route.key();
            assert!(route.has_key(&key), "{key}");
            assert!(ROUTES[..index].iter().all(|other| !other.has_key(&key)), "{key} twice");
        }
        assert_eq!(ROUTES.iter().filter(|route| route.path == DEFAULT).count(), 1);
    }

    #[test]
    fn a_method_and_a_path_name_one_route_the_most_specific() {
        // A concrete path names its own route, whatever the table's order: two routes of
        // one method overlap only where one has a literal segment for the other's
        // parameter, and the literal one wins, as in API Gateway.
        for route in ROUTES.iter().filter(|route| route.path != DEFAULT) {
            let concrete = route
                .path
                .replace("{ServiceSid}", "VA1")
                .replace('{', "x")
                .replace('}', "");
            assert_eq!(declared(route.method, &concrete), Some(route), "{concrete}");
            let overlapping = declared_at(&concrete)
                .filter(|other| other.method == route.method && other != &route)
                .all(|other| other.path.matches('{').count() > route.path.matches('{').count());
            assert!(overlapping, "{concrete}: only a less specific route may overlap");
        }
        assert_eq!(
            declared("GET", "/v2/Attempts/Summary").map(|route| route.operation),
            Some(Operation::TwilioAttemptsSummary)
        );
    }

    #[test]
    fn paths_match_with_parameters_and_a_final_slash() {
        let route = declared("POST", "/otp/abc/verifyOTP").expect("a route");
        assert_eq!(route.operation, BizmagnetsVerify);
        assert!(declared("POST", "/otp//verifyOTP").is_none());
        assert_eq!(declared("POST", "/v1/otp/").map(|r| r.operation), Some(ZapGenerate));
        assert!(declared("POST", "/x/v1/otp").is_none());
        assert_eq!(
            allowed_methods("/v2/Services/VA1").as_deref(),
            Some("DELETE, GET, POST")
        );
        assert_eq!(
            allowed_methods("/v2/Services/VA1/Verifications/VE1").as_deref(),
            Some("GET, POST")
        );
        assert_eq!(allowed_methods("/v1/otp/verify").as_deref(), Some("POST"));
        assert_eq!(allowed_methods("/nowhere"), None);
    }

    #[test]
    fn the_route_key_of_an_event_picks_the_route() {
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "POST /otp/{otp_uid}/verifyOTP",
            "rawPath": "/otp/abc/verifyOTP",
            "rawQueryString": "",
            "headers": {},
            "requestContext": {
                "routeKey": "POST /otp/{otp_uid}/verifyOTP",
                "http": {"method": "POST", "path": "/otp/abc/verifyOTP", "sourceIp": "203.0.113.1"},
                "stage": "$default"
            },
            "isBase64Encoded": false
        });
        let request = lambda_http::request::from_str(&event.to_string()).expect("an event");
        assert_eq!(served_by(Function::Verify, &request), Some(BizmagnetsVerify));
        assert_eq!(served_by(Function::SendOtp, &request), None);
    }
}
