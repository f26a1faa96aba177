//! The values that go into and come out of the operational database, typed as SQLite
//! types them: integers (booleans as 0 and 1), reals, text, bytes and null.

use super::{DbError, DbResult};

/// A value of a parameter or a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// What can be a statement's parameter.
pub trait ToValue {
    /// The value; an integer too large for a 64-bit signed one is refused.
    fn to_value(&self) -> DbResult<Value>;
}

/// What a column's value can be read as.
pub trait FromValue: Sized {
    /// The value as `Self`, or why it cannot be.
    fn from_value(value: &Value) -> Result<Self, String>;
}

impl ToValue for Value {
    fn to_value(&self) -> DbResult<Value> {
        Ok(self.clone())
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> DbResult<Value> {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> DbResult<Value> {
        self.as_ref().map_or(Ok(Value::Null), ToValue::to_value)
    }
}

impl ToValue for str {
    fn to_value(&self) -> DbResult<Value> {
        Ok(Value::Text(self.to_string()))
    }
}

impl ToValue for String {
    fn to_value(&self) -> DbResult<Value> {
        Ok(Value::Text(self.clone()))
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> DbResult<Value> {
        Ok(Value::Blob(self.to_vec()))
    }
}

impl<const N: usize> ToValue for [u8; N] {
    fn to_value(&self) -> DbResult<Value> {
        Ok(Value::Blob(self.to_vec()))
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> DbResult<Value> {
        Ok(Value::Blob(self.clone()))
    }
}

impl ToValue for bool {
    fn to_value(&self) -> DbResult<Value> {
        Ok(Value::Int(i64::from(*self)))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> DbResult<Value> {
        Ok(Value::Real(*self))
    }
}

impl ToValue for f32 {
    fn to_value(&self) -> DbResult<Value> {
        Ok(Value::Real(f64::from(*self)))
    }
}

/// Integers: every one of these types fits a 64-bit signed integer or is refused.
macro_rules! integer_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> DbResult<Value> {
                i64::try_from(*self).map(Value::Int).map_err(|_| {
                    DbError::Parameter(format!("{self} is too large for a 64-bit integer"))
                })
            }
        }

        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, String> {
                match value {
                    Value::Int(i) => <$t>::try_from(*i)
                        .map_err(|_| format!("{i} does not fit {}", stringify!($t))),
                    other => Err(format!("{} where an integer should be", other.kind())),
                }
            }
        }
    )*};
}

integer_values!(i8, i16, i32, i64, u8, u16, u32, u64, usize);

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, String> {
        Ok(value.clone())
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            other => Err(format!("{} where text should be", other.kind())),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(format!("{} where bytes should be", other.kind())),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(i) => Ok(*i != 0),
            other => Err(format!("{} where a boolean should be", other.kind())),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Real(r) => Ok(*r),
            Value::Int(i) => Ok(*i as f64),
            other => Err(format!("{} where a number should be", other.kind())),
        }
    }
}

impl From<String> for Value {
    fn from(t: String) -> Value {
        Value::Text(t)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(r: f64) -> Value {
        Value::Real(r)
    }
}

impl Value {
    /// The value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a real",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }
}
