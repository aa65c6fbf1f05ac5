//! Field-keyed validation errors in Django REST Framework's shape, collected over a whole request
//! (DRF reports every bad field at once, not just the first).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const REQUIRED: &str = "This field is required.";
pub const NOT_A_STRING: &str = "Not a valid string.";
pub const UNKNOWN_FIELD: &str = "Unknown field.";

/// `{"field": ["message", ...], "nested": {"inner": ["message"]}}`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldErrors(BTreeMap<String, Value>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error on one field.
    pub fn single(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let entry = self
            .0
            .entry(field.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(messages) = entry {
            messages.push(Value::String(message.into()));
        }
    }

    /// Errors of a nested object, kept under its field name as DRF does for nested serializers.
    pub fn nest(&mut self, field: &str, inner: FieldErrors) {
        if !inner.is_empty() {
            self.0.insert(field.to_owned(), inner.to_json());
        }
    }

    /// Errors of a list whose items are objects: one entry per item, `{}` for valid items.
    pub fn nest_list(&mut self, field: &str, items: Vec<FieldErrors>) {
        if items.iter().any(|item| !item.is_empty()) {
            let list = items.into_iter().map(|item| item.to_json()).collect();
            self.0.insert(field.to_owned(), Value::Array(list));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone().into_iter().collect::<Map<String, Value>>())
    }

    /// `Ok(value)` when no error was recorded.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

/// DRF's message for a value outside an enumeration.
pub fn not_a_choice(value: &str) -> String {
    format!("\"{value}\" is not a valid choice.")
}

/// Reads the fields of a JSON object one by one, recording DRF-style errors, and finally reports
/// any key it was never asked about as unknown. Absent keys and `null` are both "not given".
pub struct ObjectReader<'a> {
    object: &'a Map<String, Value>,
    seen: Vec<&'static str>,
    pub errors: FieldErrors,
}

impl<'a> ObjectReader<'a> {
    pub fn new(object: &'a Map<String, Value>) -> Self {
        Self {
            object,
            seen: Vec::new(),
            errors: FieldErrors::new(),
        }
    }

    pub fn value(&mut self, field: &'static str) -> Option<&'a Value> {
        self.seen.push(field);
        self.object.get(field).filter(|value| !value.is_null())
    }

    pub fn string(&mut self, field: &'static str, max_len: usize) -> Option<String> {
        match self.value(field)? {
            Value::String(text) if text.chars().count() > max_len => {
                self.errors.add(
                    field,
                    format!("Ensure this field has no more than {max_len} characters."),
                );
                None
            }
            Value::String(text) => Some(text.clone()),
            _ => {
                self.errors.add(field, NOT_A_STRING);
                None
            }
        }
    }

    pub fn required_string(&mut self, field: &'static str, max_len: usize) -> Option<String> {
        if self.value(field).is_none() {
            self.errors.add(field, REQUIRED);
            return None;
        }
        self.string(field, max_len)
    }

    pub fn bool(&mut self, field: &'static str) -> Option<bool> {
        match self.value(field)? {
            Value::Bool(flag) => Some(*flag),
            _ => {
                self.errors.add(field, "Must be a valid boolean.");
                None
            }
        }
    }

    pub fn integer(&mut self, field: &'static str, min: i64, max: i64) -> Option<i64> {
        let value = self.value(field)?;
        match value.as_i64() {
            Some(number) if (min..=max).contains(&number) => Some(number),
            Some(_) => {
                self.errors.add(
                    field,
                    format!("Ensure this value is between {min} and {max}."),
                );
                None
            }
            None => {
                self.errors.add(field, "A valid integer is required.");
                None
            }
        }
    }

    pub fn object(&mut self, field: &'static str) -> Option<&'a Map<String, Value>> {
        match self.value(field)? {
            Value::Object(object) => Some(object),
            _ => {
                self.errors.add(field, "Must be a JSON object.");
                None
            }
        }
    }

    /// Ends reading: every key not asked for is reported as unknown (the API refuses unknown
    /// fields so that a typo never silently drops a setting).
    pub fn finish(mut self) -> FieldErrors {
        for key in self.object.keys() {
            if !self.seen.contains(&key.as_str()) {
                self.errors.add(key, UNKNOWN_FIELD);
            }
        }
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reader_collects_every_error_and_unknown_keys() {
        let body = json!({"a": 5, "b": "x", "zzz": true});
        let mut reader = ObjectReader::new(body.as_object().unwrap());
        assert_eq!(reader.string("a", 10), None);
        assert_eq!(reader.string("b", 10).as_deref(), Some("x"));
        assert_eq!(reader.required_string("c", 10), None);
        let errors = reader.finish().to_json();
        assert_eq!(
            errors,
            json!({"a": [NOT_A_STRING], "c": [REQUIRED], "zzz": [UNKNOWN_FIELD]})
        );
    }

    #[test]
    fn nested_and_list_errors_keep_drf_shape() {
        let mut errors = FieldErrors::new();
        errors.nest("inner", FieldErrors::single("x", "bad"));
        errors.nest_list(
            "items",
            vec![FieldErrors::new(), FieldErrors::single("y", "worse")],
        );
        errors.nest("empty", FieldErrors::new());
        assert_eq!(
            errors.to_json(),
            json!({"inner": {"x": ["bad"]}, "items": [{}, {"y": ["worse"]}]})
        );
    }

    #[test]
    fn string_length_is_counted_in_characters() {
        let body = json!({"name": "ñññ"});
        let mut reader = ObjectReader::new(body.as_object().unwrap());
        assert_eq!(reader.string("name", 3).as_deref(), Some("ñññ"));
        assert!(reader.finish().is_empty());
    }
}
