//! The profile schema: which fields a user has beyond Better Auth's core columns, their types and
//! rules. It comes from configuration, not code. Each field is a column of `user` named after its
//! key. Input is validated on sign-up and update; values already stored are returned as they are.
//! Semantics follow Better Auth's `additionalFields` (reference, section 7), with type checks added.

use crate::error::DomainError;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The levels of the default background fields, in order.
pub const DEFAULT_LEVELS: [&str; 4] = ["none", "beginner", "intermediate", "advanced"];

/// Keys the API uses for other things; a profile field may not take them.
const RESERVED: [&str; 12] = [
    "id",
    "name",
    "email",
    "emailverified",
    "image",
    "createdat",
    "updatedat",
    "password",
    "callbackurl",
    "rememberme",
    "token",
    "sub",
];

/// The value type of a field.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Free text (up to `max_length` characters, 255 unless set).
    String,
    /// A whole number.
    Number,
    /// true or false.
    Boolean,
    /// One of `values`.
    Enum,
}

/// One profile field, as configured in `hallpass.toml` under `[[profile.fields]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// The JSON key and the column name.
    pub key: String,
    /// The value type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// Allowed values of an enum, in display order.
    #[serde(default)]
    pub values: Vec<String>,
    /// Friendly labels for enum values, for the front end (same order as `values`).
    #[serde(default)]
    pub labels: Vec<String>,
    /// A human label for the field.
    #[serde(default)]
    pub label: Option<String>,
    /// Whether sign-up must give a value.
    #[serde(default)]
    pub required: bool,
    /// Whether clients may set it (`false`: server-owned).
    #[serde(default = "yes")]
    pub input: bool,
    /// Longest accepted string, in characters.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Value used on sign-up when none is given (and always, for server-owned fields).
    #[serde(default)]
    pub default: Option<toml_value::Scalar>,
}

fn yes() -> bool {
    true
}

/// A scalar default as configuration can write it, without tying the domain to a TOML crate.
pub mod toml_value {
    use serde::Deserialize;
    use serde_json::Value;

    /// A default value: string, integer or boolean.
    #[derive(Clone, Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    pub enum Scalar {
        /// A boolean.
        Bool(bool),
        /// A whole number.
        Int(i64),
        /// Text.
        Text(String),
    }

    impl Scalar {
        /// As JSON.
        pub fn to_json(&self) -> Value {
            match self {
                Scalar::Bool(b) => Value::Bool(*b),
                Scalar::Int(i) => Value::from(*i),
                Scalar::Text(s) => Value::String(s.clone()),
            }
        }
    }
}

const DEFAULT_MAX_LENGTH: usize = 255;

impl FieldDef {
    /// An optional enum field with the default levels.
    pub fn level(key: &str, label: &str) -> FieldDef {
        FieldDef {
            key: key.into(),
            kind: FieldType::Enum,
            values: DEFAULT_LEVELS.iter().map(|s| s.to_string()).collect(),
            labels: ["No experience", "Beginner", "Intermediate", "Advanced"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            label: Some(label.into()),
            required: false,
            input: true,
            max_length: None,
            default: None,
        }
    }

    /// Checks one presented value; `Null` is handled by the caller.
    fn check(&self, value: &Value) -> Result<Value, DomainError> {
        let invalid = |msg: String| DomainError::InvalidField {
            field: self.key.clone(),
            message: format!("{} {msg}", self.key),
        };
        match (&self.kind, value) {
            (FieldType::Enum, Value::String(s)) if self.values.iter().any(|v| v == s) => {
                Ok(value.clone())
            }
            (FieldType::Enum, _) => Err(invalid(format!(
                "must be one of: {}",
                self.values.join(", ")
            ))),
            (FieldType::String, Value::String(s)) => {
                let max = self.max_length.unwrap_or(DEFAULT_MAX_LENGTH);
                if s.chars().count() > max {
                    Err(invalid(format!("must be at most {max} characters")))
                } else if s.contains('\0') {
                    Err(invalid("must not contain NUL characters".into()))
                } else {
                    Ok(value.clone())
                }
            }
            (FieldType::String, _) => Err(invalid("must be a string".into())),
            (FieldType::Number, Value::Number(n)) if n.is_i64() => Ok(value.clone()),
            (FieldType::Number, _) => Err(invalid("must be a whole number".into())),
            (FieldType::Boolean, Value::Bool(_)) => Ok(value.clone()),
            (FieldType::Boolean, _) => Err(invalid("must be true or false".into())),
        }
    }
}

/// The configured profile fields, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileSchema {
    fields: Vec<FieldDef>,
}

impl Default for ProfileSchema {
    /// `software_background` and `hardware_background`, optional levels.
    fn default() -> Self {
        ProfileSchema {
            fields: vec![
                FieldDef::level("software_background", "Software background"),
                FieldDef::level("hardware_background", "Hardware background"),
            ],
        }
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

impl ProfileSchema {
    /// Builds a schema, refusing unusable definitions with a sentence that names the field.
    pub fn new(fields: Vec<FieldDef>) -> Result<ProfileSchema, String> {
        let mut seen = std::collections::HashSet::new();
        for f in &fields {
            let valid_name = f.key.len() <= 63
                && f.key
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && f.key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                return Err(format!(
                    "profile field {:?}: a key is a letter or _ then letters, digits or _ (at most 63)",
                    f.key
                ));
            }
            if RESERVED.contains(&f.key.to_ascii_lowercase().as_str()) {
                return Err(format!("profile field {:?}: the key is reserved", f.key));
            }
            if !seen.insert(f.key.to_ascii_lowercase()) {
                return Err(format!("profile field {:?} is defined twice", f.key));
            }
            if f.kind == FieldType::Enum && f.values.is_empty() {
                return Err(format!("profile field {:?}: an enum needs values", f.key));
            }
            if !f.labels.is_empty() && f.labels.len() != f.values.len() {
                return Err(format!(
                    "profile field {:?}: give one label per value",
                    f.key
                ));
            }
            if let Some(d) = &f.default {
                f.check(&d.to_json())
                    .map_err(|e| format!("profile field {:?}: default: {e}", f.key))?;
            }
        }
        Ok(ProfileSchema { fields })
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    /// Profile values for a new user from a sign-up body: every field present, `Null` when unset.
    pub fn for_create(&self, body: &Map<String, Value>) -> Result<Map<String, Value>, DomainError> {
        let mut out = Map::new();
        for f in &self.fields {
            let given = body.get(&f.key).filter(|v| !v.is_null());
            let default = f.default.as_ref().map(|d| d.to_json());
            let value = match (f.input, given, default) {
                (false, _, Some(d)) => d,
                (false, Some(v), None) if truthy(v) => {
                    return Err(DomainError::FieldNotAllowed(f.key.clone()))
                }
                (_, Some(v), _) if f.input => f.check(v)?,
                (_, _, Some(d)) => d,
                _ if f.required => return Err(DomainError::MissingField(f.key.clone())),
                _ => Value::Null,
            };
            out.insert(f.key.clone(), value);
        }
        Ok(out)
    }

    /// Profile changes from an update body: only the fields present; `null` clears an optional one.
    pub fn for_update(&self, body: &Map<String, Value>) -> Result<Map<String, Value>, DomainError> {
        let mut out = Map::new();
        for f in &self.fields {
            let Some(v) = body.get(&f.key) else { continue };
            if !f.input {
                if truthy(v) {
                    return Err(DomainError::FieldNotAllowed(f.key.clone()));
                }
                continue;
            }
            let value = match v {
                Value::Null if f.required => {
                    return Err(DomainError::InvalidField {
                        field: f.key.clone(),
                        message: format!("{} is required and cannot be cleared", f.key),
                    })
                }
                Value::Null => Value::Null,
                v => f.check(v)?,
            };
            out.insert(f.key.clone(), value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn default_schema_accepts_levels_and_fills_missing_with_null() {
        let s = ProfileSchema::default();
        let out = s
            .for_create(&obj(json!({"software_background": "advanced"})))
            .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"software_background":"advanced","hardware_background":null})
        );
    }

    #[test]
    fn an_unknown_level_is_refused_naming_the_field() {
        let s = ProfileSchema::default();
        let err = s
            .for_create(&obj(json!({"hardware_background": "expert"})))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("hardware_background must be one of"),
            "{err}"
        );
        let err = s
            .for_update(&obj(json!({"software_background": 3})))
            .unwrap_err();
        assert!(err.to_string().contains("software_background"), "{err}");
    }

    #[test]
    fn update_takes_only_present_fields_and_null_clears() {
        let s = ProfileSchema::default();
        let out = s
            .for_update(&obj(json!({"software_background": null, "other": 1})))
            .unwrap();
        assert_eq!(Value::Object(out), json!({"software_background": null}));
    }

    fn custom() -> ProfileSchema {
        let toml_like: Vec<FieldDef> = serde_json::from_value(json!([
            {"key": "plan", "type": "string", "input": false, "default": "free"},
            {"key": "role", "type": "string", "input": false},
            {"key": "age", "type": "number", "required": true},
            {"key": "newsletter", "type": "boolean"},
            {"key": "nick", "type": "string", "max_length": 4}
        ]))
        .unwrap();
        ProfileSchema::new(toml_like).unwrap()
    }

    #[test]
    fn server_owned_fields_take_their_default_or_refuse_input() {
        let s = custom();
        let out = s
            .for_create(&obj(json!({"plan": "pro", "age": 3})))
            .unwrap();
        assert_eq!(out["plan"], json!("free"));
        assert!(
            matches!(s.for_create(&obj(json!({"role": "admin", "age": 3}))), Err(DomainError::FieldNotAllowed(k)) if k == "role")
        );
        assert!(
            matches!(s.for_update(&obj(json!({"plan": "pro"}))), Err(DomainError::FieldNotAllowed(k)) if k == "plan")
        );
    }

    #[test]
    fn required_types_and_lengths_are_enforced() {
        let s = custom();
        assert!(
            matches!(s.for_create(&obj(json!({}))), Err(DomainError::MissingField(k)) if k == "age")
        );
        assert!(s.for_create(&obj(json!({"age": "3"}))).is_err());
        assert!(s.for_create(&obj(json!({"age": 3.5}))).is_err());
        assert!(s
            .for_create(&obj(json!({"age": 3, "newsletter": "yes"})))
            .is_err());
        assert!(s
            .for_create(&obj(json!({"age": 3, "nick": "abcde"})))
            .is_err());
        assert!(s
            .for_create(&obj(json!({"age": 3, "nick": "ab\u{0}"})))
            .is_err());
        assert!(s
            .for_create(&obj(json!({"age": 3, "nick": "abcd", "newsletter": true})))
            .is_ok());
    }

    #[test]
    fn unusable_definitions_are_refused() {
        let bad = |v: Value| ProfileSchema::new(serde_json::from_value(v).unwrap()).is_err();
        assert!(bad(json!([{"key": "email", "type": "string"}])));
        assert!(bad(
            json!([{"key": "x; drop table user", "type": "string"}])
        ));
        assert!(bad(json!([{"key": "level", "type": "enum"}])));
        assert!(bad(
            json!([{"key": "a", "type": "string"}, {"key": "A", "type": "string"}])
        ));
        assert!(bad(json!([{"key": "n", "type": "number", "default": "x"}])));
    }
}
