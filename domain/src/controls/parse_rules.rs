//! Parsing of a link's targeting rules and A/B split from a request body (or the
//! stored object): every condition, target and weight checked once.

use serde_json::Value;

use crate::request::{one_of, LinkRequestError, TargetPolicy};
use crate::user_agent::{DeviceClass, Os};

use super::field::{
    clip, instant, invalid, target, DEFAULT_STICKY_SECONDS, MAX_RULES, MAX_STICKY_SECONDS,
    MAX_VALUES, MAX_VARIANTS, MAX_WEIGHT, MIN_VARIANTS,
};
use super::routing::{Conditions, QueryCondition, Split, TargetingRule, Variant};

fn strings(v: &Value, field: &'static str) -> Result<Vec<String>, LinkRequestError> {
    let list = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or(LinkRequestError::WrongType {
                field,
                expected: "a string or a list of strings",
            })?,
        _ => {
            return Err(LinkRequestError::WrongType {
                field,
                expected: "a string or a list of strings",
            })
        }
    };
    if list.is_empty() || list.len() > MAX_VALUES {
        return Err(invalid(
            field,
            format!("must list 1 to {MAX_VALUES} values"),
        ));
    }
    Ok(list)
}

const CONDITION_FIELDS: &str = "device, os, country, language, query, after, before";

fn conditions(v: &Value) -> Result<Conditions, LinkRequestError> {
    let field = "rules";
    let Value::Object(map) = v else {
        return Err(LinkRequestError::WrongType {
            field: "rules[].when",
            expected: "an object of conditions",
        });
    };
    let mut c = Conditions::default();
    for (name, value) in map {
        match name.as_str() {
            "device" => {
                c.device = strings(value, "rules[].when.device")?
                    .iter()
                    .map(|d| {
                        DeviceClass::parse(d).ok_or_else(|| {
                            invalid(
                                field,
                                format!(
                                    "device '{}' is not {}",
                                    clip(d),
                                    one_of(&DeviceClass::ALL.map(DeviceClass::as_str))
                                ),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
            "os" => {
                c.os = strings(value, "rules[].when.os")?
                    .iter()
                    .map(|d| {
                        Os::parse(d).ok_or_else(|| {
                            invalid(
                                field,
                                format!(
                                    "os '{}' is not {}",
                                    clip(d),
                                    one_of(&Os::ALL.map(Os::as_str))
                                ),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?
            }
            "country" => {
                c.country = strings(value, "rules[].when.country")?
                    .iter()
                    .map(|cc| {
                        let up = cc.trim().to_ascii_uppercase();
                        if up.len() == 2 && up.bytes().all(|b| b.is_ascii_uppercase()) {
                            Ok(up)
                        } else {
                            Err(invalid(
                                field,
                                format!("country '{}' is not a two-letter code", clip(cc)),
                            ))
                        }
                    })
                    .collect::<Result<_, _>>()?
            }
            "language" => {
                c.language = strings(value, "rules[].when.language")?
                    .iter()
                    .map(|l| {
                        let low = l.trim().to_ascii_lowercase();
                        let ok = !low.is_empty()
                            && low.len() <= 35
                            && low.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                        if ok {
                            Ok(low)
                        } else {
                            Err(invalid(
                                field,
                                format!("language '{}' is not a language tag", clip(l)),
                            ))
                        }
                    })
                    .collect::<Result<_, _>>()?
            }
            "query" => {
                let shape = LinkRequestError::WrongType {
                    field: "rules[].when.query",
                    expected: "an object {\"name\": string, \"value\": string (optional)}",
                };
                let Value::Object(m) = value else {
                    return Err(shape);
                };
                let name = m.get("name").and_then(Value::as_str).ok_or(shape.clone())?;
                let value = match m.get("value") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(v)) => Some(v.clone()),
                    Some(_) => return Err(shape),
                };
                if m.keys().any(|k| k != "name" && k != "value") {
                    return Err(shape);
                }
                let q = QueryCondition {
                    name: name.to_string(),
                    value,
                };
                if q.name.is_empty()
                    || q.name.len() > 100
                    || q.value.as_ref().is_some_and(|v| v.len() > 500)
                {
                    return Err(invalid(
                        field,
                        "query name must be 1 to 100 bytes, value at most 500",
                    ));
                }
                c.query = Some(q);
            }
            "after" => c.after = Some(instant(value, "rules[].when.after")?),
            "before" => c.before = Some(instant(value, "rules[].when.before")?),
            other => {
                return Err(invalid(
                    field,
                    format!(
                        "condition '{}' is unknown; conditions are {CONDITION_FIELDS}",
                        clip(other)
                    ),
                ))
            }
        }
    }
    if c == Conditions::default() {
        return Err(invalid(
            field,
            "each rule needs at least one condition in 'when'",
        ));
    }
    Ok(c)
}

pub(super) fn rules(
    v: &Value,
    policy: Option<&TargetPolicy>,
) -> Result<Vec<TargetingRule>, LinkRequestError> {
    let field = "rules";
    let items = v.as_array().ok_or(LinkRequestError::WrongType {
        field,
        expected: "a list of {\"when\": {...}, \"target_url\": \"...\"}",
    })?;
    if items.len() > MAX_RULES {
        return Err(invalid(
            field,
            format!("may hold at most {MAX_RULES} rules, got {}", items.len()),
        ));
    }
    items
        .iter()
        .map(|item| {
            let Value::Object(map) = item else {
                return Err(LinkRequestError::WrongType {
                    field,
                    expected: "a list of {\"when\": {...}, \"target_url\": \"...\"}",
                });
            };
            if let Some(name) = map
                .keys()
                .find(|k| !matches!(k.as_str(), "when" | "target_url"))
            {
                return Err(invalid(
                    field,
                    format!(
                        "a rule has only 'when' and 'target_url', not '{}'",
                        clip(name)
                    ),
                ));
            }
            let when = conditions(map.get("when").unwrap_or(&Value::Null))?;
            let target_url = target(
                map.get("target_url").unwrap_or(&Value::Null),
                "rules[].target_url",
                policy,
            )?;
            Ok(TargetingRule { when, target_url })
        })
        .collect()
}

pub(super) fn split(v: &Value, policy: Option<&TargetPolicy>) -> Result<Split, LinkRequestError> {
    let field = "split";
    let shape = LinkRequestError::WrongType {
        field,
        expected:
            "an object {\"variants\": [{\"target_url\", \"weight\"}, ...], \"sticky_seconds\"}",
    };
    let Value::Object(map) = v else {
        return Err(shape);
    };
    if let Some(name) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "variants" | "sticky_seconds"))
    {
        return Err(invalid(
            field,
            format!(
                "has only 'variants' and 'sticky_seconds', not '{}'",
                clip(name)
            ),
        ));
    }
    let items = map
        .get("variants")
        .and_then(Value::as_array)
        .ok_or(shape.clone())?;
    if !(MIN_VARIANTS..=MAX_VARIANTS).contains(&items.len()) {
        return Err(invalid(
            field,
            format!(
                "needs {MIN_VARIANTS} to {MAX_VARIANTS} variants, got {}",
                items.len()
            ),
        ));
    }
    let variants = items
        .iter()
        .map(|item| {
            let Value::Object(m) = item else {
                return Err(shape.clone());
            };
            let target_url = target(
                m.get("target_url").unwrap_or(&Value::Null),
                "split.variants[].target_url",
                policy,
            )?;
            let weight = m
                .get("weight")
                .and_then(Value::as_u64)
                .filter(|w| (1..=u64::from(MAX_WEIGHT)).contains(w))
                .ok_or_else(|| {
                    invalid(
                        field,
                        format!("each variant needs a weight from 1 to {MAX_WEIGHT}"),
                    )
                })?;
            Ok(Variant {
                target_url,
                weight: weight as u32,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sticky_seconds = match map.get("sticky_seconds") {
        None | Some(Value::Null) => DEFAULT_STICKY_SECONDS,
        Some(s) => s
            .as_u64()
            .filter(|s| (1..=u64::from(MAX_STICKY_SECONDS)).contains(s))
            .ok_or_else(|| {
                invalid(
                    field,
                    format!("sticky_seconds must be from 1 to {MAX_STICKY_SECONDS}"),
                )
            })? as u32,
    };
    Ok(Split {
        variants,
        sticky_seconds,
    })
}
