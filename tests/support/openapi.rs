//! `openapi.json` as a test oracle: requests and responses are checked against the
//! operation of their method and path, so the document cannot drift from the service.

use std::sync::OnceLock;

use lambda_http::Request;
use serde_json::{Value, json};

use crate::workspace_root;

/// The document, read once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let path = workspace_root().join("openapi.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

fn template_matches(template: &str, path: &str) -> bool {
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    template.len() == path.len()
        && template
            .iter()
            .zip(&path)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p)
}

/// The operation serving `method` and `path`: an exact path first, else a templated one.
pub fn operation(method: &str, path: &str) -> Option<&'static Value> {
    let paths = document()["paths"].as_object()?;
    let method = method.to_ascii_lowercase();
    paths
        .get(path)
        .or_else(|| {
            paths
                .iter()
                .find(|(template, _)| template_matches(template, path))
                .map(|(_, item)| item)
        })
        .and_then(|item| item.get(&method))
}

/// Checks `instance` against `schema`, whose references point into the document.
pub fn validate(schema: &Value, instance: &Value) -> Result<(), String> {
    let root = json!({"components": document()["components"], "allOf": [schema]});
    let validator = jsonschema::validator_for(&root).map_err(|e| format!("the schema does not compile: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// Whether the request carries one of the operation's security alternatives.
fn secured(operation: &Value, request: &Request) -> bool {
    let Some(alternatives) = operation["security"].as_array() else {
        return true;
    };
    let schemes = &document()["components"]["securitySchemes"];
    let cookies = crate::cookie_names(request);
    alternatives.iter().any(|alternative| {
        alternative.as_object().is_some_and(|required| {
            required.keys().all(|scheme| {
                let scheme = &schemes[scheme];
                let name = scheme["name"].as_str().unwrap_or_default();
                if scheme["type"] == "http" {
                    return request.headers().contains_key("authorization");
                }
                match scheme["in"].as_str() {
                    Some("header") => request.headers().contains_key(name.to_ascii_lowercase().as_str()),
                    Some("cookie") => cookies.iter().any(|cookie| cookie == name),
                    _ => false,
                }
            })
        })
    })
}

/// Checks a request (an event file's, say): its operation exists, its credentials are of a
/// declared scheme, and its body is of the request schema.
pub fn check_request(request: &Request) -> Result<(), String> {
    let (method, path) = (request.method().as_str(), request.uri().path());
    let operation = operation(method, path).ok_or_else(|| format!("{method} {path} is not in openapi.json"))?;
    if !secured(operation, request) {
        return Err(format!("{method} {path}: no declared security scheme is present"));
    }
    let body = match request.body() {
        lambda_http::Body::Text(text) => Some(text.as_str()),
        _ => None,
    };
    let request_body = &operation["requestBody"];
    let form = &request_body["content"]["application/x-www-form-urlencoded"]["schema"];
    match body {
        // A form's parameters are strings, as the schema of a form-encoded body says them.
        Some(text) if !form.is_null() => {
            let value: serde_json::Map<String, Value> = form_urlencoded::parse(text.as_bytes())
                .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
                .collect();
            validate(form, &Value::Object(value)).map_err(|e| format!("{method} {path} request: {e}"))
        }
        Some(text) => {
            let value: Value =
                serde_json::from_str(text).map_err(|e| format!("{method} {path}: body is not JSON: {e}"))?;
            validate(&request_body["content"]["application/json"]["schema"], &value)
                .map_err(|e| format!("{method} {path} request: {e}"))
        }
        None if request_body["required"] == true => Err(format!("{method} {path}: the body is required")),
        None => Ok(()),
    }
}

/// Checks a response the service gave to `method` and `path`: its status is declared, its
/// body is of that status's schema, and a 429 carries `Retry-After`.
pub fn check_response(
    method: &str,
    path: &str,
    status: u16,
    body: &Value,
    retry_after: Option<&str>,
) -> Result<(), String> {
    let Some(operation) = operation(method, path) else {
        // Requests outside the document reach a function only by the default route: 404,
        // or 405 for a path of the document with a method it does not list.
        let known_path = self::operation("post", path).is_some();
        return match status {
            404 => Ok(()),
            405 if known_path => Ok(()),
            _ => Err(format!("{method} {path} is not in openapi.json, yet answered {status}")),
        };
    };
    let response = operation["responses"]
        .get(status.to_string())
        .ok_or_else(|| format!("{method} {path}: status {status} is not declared"))?;
    // A response the document gives no content (a 204) has no body.
    if response.get("content").is_none() {
        return match body {
            Value::Null => Ok(()),
            _ => Err(format!(
                "{method} {path} {status}: a body where none is declared: {body}"
            )),
        };
    }
    validate(&response["content"]["application/json"]["schema"], body)
        .map_err(|e| format!("{method} {path} {status}: {e}: {body}"))?;
    if response["headers"]["Retry-After"]["required"] == true && retry_after.is_none() {
        return Err(format!("{method} {path} {status}: Retry-After is missing"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_exact_paths_resolve() {
        assert!(operation("POST", "/otp/abc/verifyOTP").is_some());
        assert!(operation("POST", "/v1/otp/").is_some());
        assert!(operation("GET", "/v1/otp").is_none());
        assert!(operation("POST", "/otp//verifyOTP").is_none());
        assert!(
            check_response(
                "POST",
                "/v1/otp",
                200,
                &json!({"success": true, "data": "OTP Generated"}),
                None
            )
            .is_ok()
        );
        assert!(check_response("POST", "/v1/otp", 200, &json!({"success": "yes"}), None).is_err());
        assert!(check_response("POST", "/v1/otp", 429, &json!({"success": false, "data": "x"}), None).is_err());
        assert!(check_response("POST", "/v1/otp", 418, &json!({}), None).is_err());
    }
}
