//! What the operator's batch requests (bulk creation, import) share: a body that is a
//! JSON array of items, and one item's error as it appears among the results.

use serde_json::Value;

use crate::http::error::ApiError;

/// One item's error among a batch's results: its status and detail.
pub fn item_error(e: &ApiError) -> Value {
    serde_json::json!({ "status": e.status(), "detail": e.detail() })
}

/// A request body that must be a JSON array of 1 to `max` items.
pub fn items(body: &[u8], max: usize, what: &str) -> Result<Vec<Value>, ApiError> {
    let items = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            return Err(ApiError::Unprocessable(
                "request body must be a JSON array of link bodies".into(),
            ))
        }
        Err(e) => {
            return Err(ApiError::Unprocessable(format!(
                "request body is not valid JSON: {e}"
            )))
        }
    };
    if items.is_empty() || items.len() > max {
        return Err(ApiError::Unprocessable(format!(
            "{what} holds 1 to {max} items, got {}",
            items.len()
        )));
    }
    Ok(items)
}
