//! The DynamoDB items a request wrote, read from its body as the proxy saw it (their sizes,
//! read from the table at the end, give the write units: the benchmark's items keep a
//! constant size).

use serde_json::Value;

use otp_tests::proxy::Seen;

/// The items a request wrote, by key, and whether inside a transaction.
pub fn items_written(seen: &Seen) -> Vec<(String, bool)> {
    writes_of(&seen.operation, &seen.body)
}

fn key_of(request: &Value, field: &str) -> Option<String> {
    request.get(field)?.get("pk")?.get("S")?.as_str().map(str::to_owned)
}

/// The items a DynamoDB write touches, by key, and whether inside a transaction.
fn writes_of(operation: &str, body: &[u8]) -> Vec<(String, bool)> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let mut writes = Vec::new();
    match operation {
        "dynamodb:PutItem" => {
            if let Some(key) = key_of(&request, "Item") {
                writes.push((key, false));
            }
        }
        "dynamodb:UpdateItem" | "dynamodb:DeleteItem" => {
            if let Some(key) = key_of(&request, "Key") {
                writes.push((key, false));
            }
        }
        "dynamodb:TransactWriteItems" => {
            for item in request["TransactItems"].as_array().into_iter().flatten() {
                if let Some(put) = item.get("Put") {
                    if let Some(key) = key_of(put, "Item") {
                        writes.push((key, true));
                    }
                } else if let Some((_, action)) = item.as_object().and_then(|o| o.iter().next())
                    && let Some(key) = key_of(action, "Key")
                {
                    writes.push((key, true));
                }
            }
        }
        _ => {}
    }
    writes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_name_their_items() {
        let body = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "A"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "B"}}}}
        ]})
        .to_string();
        let writes = writes_of("dynamodb:TransactWriteItems", body.as_bytes());
        assert_eq!(writes, vec![("A".to_owned(), true), ("B".to_owned(), true)]);
    }
}
