//! An UpdateItem expression built attribute by attribute, every name and
//! value through a placeholder (no reserved-word surprises).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;

#[derive(Debug, Default)]
pub struct Update {
    set: Vec<String>,
    remove: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Update {
    /// The placeholder of an attribute name.
    pub fn name(&mut self, attr: &str) -> String {
        if let Some((k, _)) = self.names.iter().find(|(_, v)| *v == attr) {
            return k.clone();
        }
        let k = format!("#n{}", self.names.len());
        self.names.insert(k.clone(), attr.to_string());
        k
    }

    /// The placeholder of a value.
    pub fn value(&mut self, v: AttributeValue) -> String {
        let k = format!(":v{}", self.values.len());
        self.values.insert(k.clone(), v);
        k
    }

    pub fn set(&mut self, attr: &str, v: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(v));
        self.set.push(format!("{n} = {v}"));
    }

    /// Sets the attribute only if the item does not hold it yet.
    pub fn set_if_absent(&mut self, attr: &str, v: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(v));
        self.set.push(format!("{n} = if_not_exists({n}, {v})"));
    }

    pub fn remove(&mut self, attr: &str) {
        let n = self.name(attr);
        self.remove.push(n);
    }

    pub fn expression(&self) -> String {
        let mut parts = Vec::new();
        if !self.set.is_empty() {
            parts.push(format!("SET {}", self.set.join(", ")));
        }
        if !self.remove.is_empty() {
            parts.push(format!("REMOVE {}", self.remove.join(", ")));
        }
        parts.join(" ")
    }

    /// The expression, names and values on the request (the condition, if
    /// any, must be set after its placeholders were taken from `self`).
    pub fn apply(self, req: UpdateItemFluentBuilder) -> UpdateItemFluentBuilder {
        let expr = self.expression();
        let req = req
            .update_expression(expr)
            .set_expression_attribute_names(Some(self.names));
        if self.values.is_empty() {
            req
        } else {
            req.set_expression_attribute_values(Some(self.values))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_remove_and_placeholders() {
        let mut u = Update::default();
        u.set("a", AttributeValue::N("1".into()));
        u.set_if_absent("expires_at", AttributeValue::N("2".into()));
        u.remove("b");
        assert_eq!(u.name("a"), "#n0", "a name keeps its placeholder");
        assert_eq!(
            u.expression(),
            "SET #n0 = :v0, #n1 = if_not_exists(#n1, :v1) REMOVE #n2"
        );
    }
}
