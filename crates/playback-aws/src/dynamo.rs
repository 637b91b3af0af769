//! Small helpers shared by the DynamoDB adapters.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;

pub use crate::classify::port_error;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn get_s(item: &Item, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}

pub fn get_u64(item: &Item, k: &str) -> u64 {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<f64>().ok())
        .map(|f| f as u64)
        .unwrap_or(0)
}

pub fn get_i64(item: &Item, k: &str) -> i64 {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// True when the SDK error is DynamoDB's ConditionalCheckFailedException: a
/// domain outcome (someone else wrote first), never an error.
pub fn is_conditional_failure<E>(e: &SdkError<E>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    crate::classify::has_code(e, "ConditionalCheckFailedException")
}

/// The outcome of a conditional write: true if written, false if its
/// condition did not hold, else the classified port error.
pub fn conditional_written<T, E>(
    res: Result<T, SdkError<E>>,
    operation: &'static str,
) -> playback_domain::ports::PortResult<bool>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match res {
        Ok(_) => Ok(true),
        Err(e) if is_conditional_failure(&e) => Ok(false),
        Err(e) => Err(port_error(operation, e)),
    }
}

/// Size of an item by DynamoDB's rules, which decide the write units (1 per
/// KB) and read units (1 per 4 KB): per attribute, the UTF-8 bytes of its name
/// plus its value. Strings: their UTF-8 bytes; binary: its raw bytes; numbers:
/// 1 byte per 2 significant digits, plus 1; booleans and nulls: 1; lists and
/// maps: 3, plus 1 and the element (and its key) per element; sets: the sum of
/// their elements. Trailing zeros of numbers are counted, so this errs high.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &AttributeValue) -> usize {
    let number = |n: &str| {
        let digits: String = n.chars().filter(char::is_ascii_digit).collect();
        digits.trim_start_matches('0').len().div_ceil(2) + 1
    };
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        AttributeValue::Ss(s) => s.iter().map(String::len).sum(),
        AttributeValue::Ns(s) => s.iter().map(|n| number(n)).sum(),
        AttributeValue::Bs(s) => s.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_size_follows_dynamodb_rules() {
        let size = |k: &str, v: AttributeValue| item_size(&Item::from([(k.to_string(), v)]));
        assert_eq!(size("ab", s("xyz")), 2 + 3);
        assert_eq!(size("n", n(12_345)), 1 + 3 + 1);
        assert_eq!(size("n", n(-7)), 1 + 1 + 1);
        assert_eq!(size("b", AttributeValue::B(vec![0u8; 256].into())), 1 + 256);
        assert_eq!(
            size("l", AttributeValue::L(vec![s("ab"), s("c")])),
            1 + 3 + 3 + 2
        );
        assert_eq!(size("t", AttributeValue::Bool(true)), 1 + 1);
    }
}
