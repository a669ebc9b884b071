//! What the templates show, built from domain types: profile questions from the schema, sessions
//! as a person recognizes them ("Firefox on Linux"). Everything here is plain text; the templates
//! escape it.

use hallpass_core::model::AccountInfo;
use hallpass_core::profile::{FieldDef, FieldType};
use hallpass_core::{Session, User};
use serde_json::Value;

/// Enums with more choices than this are a drop-down instead of a row of options.
const MAX_RADIO_CHOICES: usize = 6;

/// One profile question on a form.
pub struct FieldView {
    /// The JSON key (and the input's `name`).
    pub key: String,
    /// `hp-<key>`: the control's id, and the prefix of its error and hint ids.
    pub id: String,
    /// The question, as configured or made from the key.
    pub label: String,
    /// The value type the script sends: `enum`, `string`, `number` or `boolean`.
    pub kind: &'static str,
    /// The control: `radio`, `select`, `text`, `number` or `checkbox`.
    pub control: &'static str,
    /// Whether sign-up needs an answer.
    pub required: bool,
    /// The choices of an enum, in schema order.
    pub choices: Vec<Choice>,
    /// The current value of a text or number field.
    pub value: String,
    /// The current value of a boolean field.
    pub checked: bool,
    /// Longest accepted text.
    pub max_length: Option<usize>,
    /// Whether an answer can be taken back: an optional question on the profile.
    pub clearable: bool,
}

/// One choice of an enum question.
pub struct Choice {
    /// The stored value (`""` for "no answer").
    pub value: String,
    /// What the person reads.
    pub label: String,
    /// Whether it is the current answer.
    pub selected: bool,
}

impl FieldView {
    /// The question for a field, with `current` as its answer (`Null` for none). `clearable`
    /// offers to take an answer to an optional question back (a "Clear answer" button for a row
    /// of options, a "Not set" entry in a drop-down).
    pub fn new(def: &FieldDef, current: &Value, clearable: bool) -> FieldView {
        let current_text = match current {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let mut choices: Vec<Choice> = def
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| Choice {
                value: v.clone(),
                label: def.labels.get(i).cloned().unwrap_or_else(|| humanize(v)),
                selected: *v == current_text,
            })
            .collect();
        let (kind, control) = match def.kind {
            FieldType::Enum if def.values.len() <= MAX_RADIO_CHOICES => ("enum", "radio"),
            FieldType::Enum => ("enum", "select"),
            FieldType::String => ("string", "text"),
            FieldType::Number => ("number", "number"),
            FieldType::Boolean => ("boolean", "checkbox"),
        };
        let clearable = clearable && !def.required;
        if control == "select" && !def.required {
            choices.insert(
                0,
                Choice {
                    value: String::new(),
                    label: if clearable { "Not set" } else { "Choose one" }.into(),
                    selected: current_text.is_empty(),
                },
            );
        }
        FieldView {
            key: def.key.clone(),
            id: format!("hp-{}", def.key),
            label: def.label.clone().unwrap_or_else(|| humanize(&def.key)),
            kind,
            control,
            required: def.required,
            choices,
            value: current_text,
            checked: *current == Value::Bool(true),
            max_length: def
                .max_length
                .or((def.kind == FieldType::String).then_some(255)),
            clearable,
        }
    }
}

/// The questions a person answers: every field clients may set, in schema order.
pub fn questions(fields: &[FieldDef], user: Option<&User>, clearable: bool) -> Vec<FieldView> {
    fields
        .iter()
        .filter(|f| f.input)
        .map(|f| {
            let current = user
                .and_then(|u| u.profile.get(&f.key))
                .unwrap_or(&Value::Null);
            FieldView::new(f, current, clearable)
        })
        .collect()
}

/// `software_background` → `Software background`.
pub fn humanize(key: &str) -> String {
    let words = key.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One session in the profile's list.
pub struct SessionView {
    /// The token the revoke button sends (the API takes tokens, as Better Auth's does).
    pub token: String,
    /// "Firefox on Linux".
    pub device: String,
    /// Whether it looks like a phone or tablet (for the icon).
    pub mobile: bool,
    /// "127.0.0.1 · signed in 29 Nov 2026, 14:47 UTC".
    pub detail: String,
    /// Whether it is the session that asked for the page.
    pub current: bool,
}

impl SessionView {
    /// A session as a list entry; `current` is the token of the request's session.
    pub fn new(s: &Session, current: &str) -> SessionView {
        let (device, mobile) = describe_agent(&s.user_agent);
        let mut detail = Vec::new();
        if !s.ip_address.is_empty() {
            detail.push(s.ip_address.clone());
        }
        detail.push(format!(
            "signed in {}",
            s.created_at.format("%-d %b %Y, %H:%M UTC")
        ));
        SessionView {
            token: s.token.clone(),
            device,
            mobile,
            detail: detail.join(" · "),
            current: s.token == current,
        }
    }
}

/// One way of signing in, as the profile lists it (`/list-accounts`).
pub struct MethodView {
    /// "Email and password", "GitHub".
    pub label: String,
    /// Whether it is the password (for the icon).
    pub password: bool,
    /// "added 29 Nov 2026".
    pub detail: String,
}

impl MethodView {
    /// An account as a list entry.
    pub fn new(a: &AccountInfo) -> MethodView {
        MethodView {
            label: method_label(&a.provider_id),
            password: a.provider_id == "credential",
            detail: format!("added {}", a.created_at.format("%-d %b %Y")),
        }
    }
}

/// A provider id as a person knows it: `credential` is "Email and password".
pub fn method_label(provider_id: &str) -> String {
    match provider_id {
        "credential" => "Email and password".to_owned(),
        "github" => "GitHub".to_owned(),
        "gitlab" => "GitLab".to_owned(),
        "linkedin" => "LinkedIn".to_owned(),
        "tiktok" => "TikTok".to_owned(),
        other => humanize(other),
    }
}

/// A user agent as "Browser on System", and whether it is a phone or tablet. Rough on purpose:
/// it names what a person would recognize, and says "Unknown device" otherwise.
pub fn describe_agent(ua: &str) -> (String, bool) {
    let has = |s: &str| ua.contains(s);
    let browser = if has("Edg/") {
        Some("Edge")
    } else if has("OPR/") || has("Opera") {
        Some("Opera")
    } else if has("Firefox/") || has("FxiOS/") {
        Some("Firefox")
    } else if has("Chrome/") || has("CriOS/") || has("Chromium/") {
        Some("Chrome")
    } else if has("Safari/") {
        Some("Safari")
    } else if has("curl/") {
        Some("curl")
    } else if has("node") || has("undici") {
        Some("Node.js")
    } else if has("python") || has("Python") {
        Some("Python")
    } else {
        None
    };
    let system = if has("iPhone") || has("iPad") {
        Some("iOS")
    } else if has("Android") {
        Some("Android")
    } else if has("Windows") {
        Some("Windows")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Linux") {
        Some("Linux")
    } else {
        None
    };
    let mobile = has("Mobile") || has("iPhone") || has("iPad") || has("Android");
    let text = match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => s.to_owned(),
        (None, None) => "Unknown device".to_owned(),
    };
    (text, mobile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallpass_core::profile::ProfileSchema;
    use serde_json::json;

    #[test]
    fn default_questions_are_rows_of_labelled_levels() {
        let schema = ProfileSchema::default();
        let q = questions(schema.fields(), None, false);
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].label, "Software background");
        assert_eq!(q[0].control, "radio");
        let labels: Vec<_> = q[0].choices.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            ["No experience", "Beginner", "Intermediate", "Advanced"]
        );
        assert!(q[0].choices.iter().all(|c| !c.selected));
    }

    #[test]
    fn current_answers_are_selected_and_optional_ones_can_be_cleared() {
        let def = FieldDef::level("software_background", "Software");
        let v = FieldView::new(&def, &json!("intermediate"), true);
        let selected: Vec<_> = v.choices.iter().filter(|c| c.selected).collect();
        assert_eq!(selected.len(), 1);
        assert_eq!(selected[0].value, "intermediate");
        assert!(v.clearable);
        let required = FieldDef {
            required: true,
            ..def.clone()
        };
        assert!(!FieldView::new(&required, &json!("none"), true).clearable);
    }

    #[test]
    fn long_enums_are_drop_downs_with_an_empty_choice_when_optional() {
        let def = FieldDef {
            values: (1..=8).map(|i| format!("v{i}")).collect(),
            labels: Vec::new(),
            ..FieldDef::level("os", "Operating system")
        };
        let v = FieldView::new(&def, &Value::Null, true);
        assert_eq!(v.control, "select");
        assert_eq!(v.choices.len(), 9);
        assert_eq!(v.choices[0].label, "Not set");
        assert!(v.choices[0].selected);
        assert_eq!(v.choices[1].label, "V1");
    }

    #[test]
    fn sign_in_methods_are_named_as_people_know_them() {
        assert_eq!(method_label("credential"), "Email and password");
        assert_eq!(method_label("github"), "GitHub");
        assert_eq!(method_label("google"), "Google");
    }

    #[test]
    fn keys_without_labels_are_made_readable() {
        assert_eq!(humanize("years_of_experience"), "Years of experience");
        assert_eq!(humanize("os"), "Os");
    }

    #[test]
    fn user_agents_are_named_as_people_know_them() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe_agent(firefox), ("Firefox on Linux".into(), false));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_agent(iphone), ("Safari on iOS".into(), true));
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(describe_agent(edge).0, "Edge on Windows");
        assert_eq!(describe_agent("").0, "Unknown device");
    }
}
