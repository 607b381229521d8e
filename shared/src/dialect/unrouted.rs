//! The default route's answers: what no declared route took, in the shape of the product
//! whose path it names.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::error::OtpError;
use crate::http::{json_response, route_path};
use crate::routes::{self, Dialect, Operation};

use super::{bizmagnets, bridgekeeper, kgen, twilio, zap};

/// A route no dialect serves (a request that reached a function by the `$default` route).
pub fn not_found() -> Response<Body> {
    json_response(StatusCode::NOT_FOUND, &json!({"message": "Not Found"}), None)
}

/// The operation of the declared route a request's method and path name, a final `/`
/// ignored (what a request that fell to `$default` meant).
pub fn declared_operation(request: &Request) -> Option<Operation> {
    routes::declared(request.method().as_str(), request.uri().path()).map(|route| route.operation)
}

/// A request no declared route took (it reached `$default`). A route of the service
/// reached with another method than it takes is a 405 with `Allow` in its dialect's
/// shape, and with a final `/` a 404 in that shape; any other path is a 404, in
/// Bridgekeeper's or Twilio's shape under their prefixes (their clients parse every
/// answer).
pub fn unrouted<S, D>(app: &App<S, D>, request: &Request) -> Response<Body> {
    let path = request.uri().path();
    let dialect = routes::declared_at(path).find_map(|route| route.operation.dialect());
    let allow = routes::allowed_methods(path);
    // A route of this method at this path reaches `$default` only by a final `/`.
    let error = match routes::declared(request.method().as_str(), path) {
        Some(_) => OtpError::NotFound,
        None => OtpError::MethodNotAllowed,
    };
    let mut response = match dialect {
        Some(Dialect::Kgen) => kgen::render_error(&error),
        Some(Dialect::Bizmagnets) => bizmagnets::render_error(&error, route_path(request), app.otp.clock.now()),
        Some(Dialect::Zap) => zap::render_error(&error),
        Some(Dialect::Bridgekeeper) => bridgekeeper::render_error(&error),
        Some(Dialect::Twilio) => twilio::render_error(&error, twilio::Operation::Other),
        None if bridgekeeper::is_under_prefix(request) => return bridgekeeper::render_error(&OtpError::NotFound),
        None if twilio::is_under_prefix(request) => {
            return twilio::render_error(&OtpError::NotFound, twilio::Operation::Other);
        }
        None => return not_found(),
    };
    if let (OtpError::MethodNotAllowed, Some(allow)) = (&error, allow)
        && let Ok(allow) = HeaderValue::from_str(&allow)
    {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}
