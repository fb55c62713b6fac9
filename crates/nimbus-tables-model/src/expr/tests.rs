//! Parser errors and evaluation semantics of the expression languages.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::value::{Item, item_from_json};

fn attrs(names: &[(&str, &str)], values: serde_json::Value) -> ExpressionAttributes {
    let names = (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    });
    let values = values
        .as_object()
        .filter(|m| !m.is_empty())
        .map(|_| ExpressionAttributes::values_from_json(&values).unwrap());
    ExpressionAttributes::new(names, values).unwrap()
}

fn item(json: serde_json::Value) -> Item {
    item_from_json(&json).unwrap()
}

fn cond(src: &str, values: serde_json::Value) -> Result<Condition> {
    Condition::parse(
        src,
        ExprKind::Condition,
        &mut attrs(&[("#n", "name"), ("#c", "c")], values),
    )
}

fn cond_err(src: &str, values: serde_json::Value) -> String {
    cond(src, values).unwrap_err().to_string()
}

fn update_err(src: &str, values: serde_json::Value) -> String {
    UpdateExpression::parse(src, &mut attrs(&[("#c", "c"), ("#d", "[3]")], values))
        .unwrap_err()
        .to_string()
}

fn run_update(
    src: &str,
    values: serde_json::Value,
    start: serde_json::Value,
) -> Result<(Item, Changes)> {
    let u = UpdateExpression::parse(src, &mut attrs(&[], values))?;
    let mut it = item(start);
    let changes = u.apply(&mut it)?;
    Ok((it, changes))
}

#[test]
fn condition_syntax_errors() {
    for (src, values, expected) in [
        (
            "a = ",
            json!({}),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"=\"",
        ),
        (
            "a b",
            json!({}),
            "Invalid ConditionExpression: Syntax error; token: \"b\", near: \"a b\"",
        ),
        (
            "SET x",
            json!({}),
            "Invalid ConditionExpression: Syntax error; token: \"SET\", near: \"SET x\"",
        ),
        (
            "ADD #v",
            json!({}),
            "Invalid ConditionExpression: Syntax error; token: \"ADD\", near: \"ADD #v\"",
        ),
        (
            "",
            json!({}),
            "Invalid ConditionExpression: The expression can not be empty;",
        ),
        (
            "a = :v AND",
            json!({":v": {"S": "x"}}),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"",
        ),
    ] {
        assert_eq!(cond_err(src, values), expected, "{src}");
    }
}

#[test]
fn condition_semantic_errors() {
    for (src, values, expected) in [
        (
            "name = :v",
            json!({":v": {"S": "x"}}),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name",
        ),
        (
            "#x = :v",
            json!({":v": {"S": "x"}}),
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x",
        ),
        (
            "a = :x",
            json!({":v": {"S": "x"}}),
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :x",
        ),
        (
            "a < :m",
            json!({":m": {"M": {}}}),
            "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: M",
        ),
        (
            "foo(a)",
            json!({}),
            "Invalid ConditionExpression: Invalid function name; function: foo",
        ),
        (
            "begins_with(a)",
            json!({}),
            "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1",
        ),
        (
            "attribute_exists(:v)",
            json!({":v": {"S": "x"}}),
            "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists",
        ),
        (
            "a = a",
            json!({}),
            "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]",
        ),
        (
            "size(a)",
            json!({}),
            "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "attribute_type(a, :t)",
            json!({":t": {"S": "X"}}),
            "Invalid ConditionExpression: Invalid attribute type name found; type: X, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
        ),
        (
            "a BETWEEN :b AND :a",
            json!({":a": {"N": "1"}, ":b": {"N": "2"}}),
            "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}",
        ),
        (
            "((a = b))",
            json!({}),
            "Invalid ConditionExpression: The expression has redundant parentheses;",
        ),
        (
            "((a)) = b",
            json!({}),
            "Invalid ConditionExpression: The expression has redundant parentheses;",
        ),
        (
            "(a = b AND (((c = d))))",
            json!({}),
            "Invalid ConditionExpression: The expression has redundant parentheses;",
        ),
    ] {
        assert_eq!(cond_err(src, values), expected, "{src}");
    }
}

#[test]
fn condition_evaluation() {
    let it = item(json!({
        "name": {"S": "alice"}, "age": {"N": "30"}, "tags": {"SS": ["x", "y"]},
        "m": {"M": {"l": {"L": [{"N": "1"}, {"S": "two"}]}}}, "c": {"BOOL": true}, "u": {"S": "\u{e9}\u{1d11e}"}
    }));
    let vals = json!({
        ":a": {"S": "alice"}, ":al": {"S": "al"}, ":n20": {"N": "20"}, ":n40": {"N": "40"},
        ":x": {"S": "x"}, ":two": {"S": "two"}, ":t": {"S": "SS"}, ":s": {"N": "2"}, ":three": {"N": "3"}
    });
    let check = |src: &str, expected: bool| {
        let c = cond(src, vals.clone()).unwrap();
        assert_eq!(c.evaluate(&it), expected, "{src}");
    };
    check("#n = :a", true);
    check("#n <> :a", false);
    check("nope <> :a", true);
    check("nope = :a", false);
    check("age BETWEEN :n20 AND :n40", true);
    check("age > :n40 OR begins_with(#n, :al)", true);
    check("NOT age > :n20 AND age > :n20", false);
    check("NOT (age > :n20 AND age > :n40)", true);
    check("age IN (:n20, :n40)", false);
    check("contains(tags, :x)", true);
    check("contains(m.l, :two)", true);
    check("m.l[1] = :two", true);
    check(
        "attribute_exists(m.l[1]) AND attribute_not_exists(m.l[2])",
        true,
    );
    check("attribute_type(tags, :t)", true);
    check("size(tags) = :s AND size(m.l) = :s", true);
    check("size(u) = :three", true);
    check("#n < :n20", false);
    check("#c = :a OR #n = :a AND age < :n20", false);
    check("(#n) = :a", true);
    check("(age) BETWEEN (:n20) AND :n40 AND (size(tags)) = :s", true);
    check("((age) > :n20)", true);
    check("(age) IN (:n20, (:n40))", false);
}

#[test]
fn update_parse_errors() {
    for (src, values, expected) in [
        (
            "SET x",
            json!({}),
            "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"x\"",
        ),
        (
            "ADD hits : incr",
            json!({}),
            "Invalid UpdateExpression: Syntax error; token: \":\", near: \"hits : incr\"",
        ),
        (
            "SET a = :v, updated = :v updated = :v",
            json!({":v": {"N": "1"}}),
            "Invalid UpdateExpression: Syntax error; token: \"updated\", near: \":v updated =\"",
        ),
        (
            "INVALID SYNTAX HERE",
            json!({}),
            "Invalid UpdateExpression: Syntax error; token: \"INVALID\", near: \"INVALID SYNTAX\"",
        ),
        (
            "set a = #c set c = :d",
            json!({":d": {"S": "x"}}),
            "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;",
        ),
        (
            " remove Absolute ",
            json!({}),
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: Absolute",
        ),
        (
            "set #c[3].#d = a, #c[3] = a",
            json!({}),
            "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [c, [3], [3]], path two: [c, [3]]",
        ),
        (
            "remove a.#c set a[1] = #d",
            json!({}),
            "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, c], path two: [a, [1]]",
        ),
        (
            "add a.b :a",
            json!({":a": {"S": "a"}}),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING",
        ),
        (
            "set a = a + :a",
            json!({":a": {"S": "a"}}),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S",
        ),
        (
            "set a = list_append(:a, a)",
            json!({":a": {"S": "a"}}),
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S",
        ),
        (
            "set a = if_not_exists(:a, c)",
            json!({":a": {"S": "a"}}),
            "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists",
        ),
        (
            "set a = if_not_exist(a, :a)",
            json!({":a": {"S": "a"}}),
            "Invalid UpdateExpression: Invalid function name; function: if_not_exist",
        ),
    ] {
        assert_eq!(update_err(src, values), expected, "{src}");
    }
    for bad in [
        "set a = b / c",
        "set a = b + c + d",
        "set a[1] = 1",
        "remove a = b",
        "delete a b",
        "set :a = b",
    ] {
        assert!(
            update_err(bad, json!({":a": {"S": "a"}}))
                .starts_with("Invalid UpdateExpression: Syntax error; "),
            "{bad}"
        );
    }
}

#[test]
fn update_apply() {
    let values = json!({
        ":v": {"S": "new"}, ":n": {"N": "5"}, ":z": {"N": "0"}, ":l": {"L": [{"S": "c"}]},
        ":s": {"SS": ["b", "c"]}, ":d": {"SS": ["a"]}
    });
    let start = json!({
        "k": {"S": "key"}, "num": {"N": "10"}, "lst": {"L": [{"S": "a"}, {"S": "b"}]},
        "st": {"SS": ["a"]}, "gone": {"S": "x"}, "m": {"M": {"x": {"N": "1"}}},
        "l2": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]}, "l3": {"L": []}, "s2": {"SS": ["a", "z"]}
    });
    let (it, changes) = run_update(
        "SET a = :v, num = num + :n, c = if_not_exists(c, :z), lst = list_append(lst, :l), m.y = m.x, l3[9] = :v \
         REMOVE gone, l2[0], l2[2] ADD st :s, cnt :n DELETE s2 :d",
        values,
        start,
    )
    .unwrap();
    let expected = item(json!({
        "k": {"S": "key"}, "a": {"S": "new"}, "num": {"N": "15"}, "c": {"N": "0"},
        "lst": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]}, "st": {"SS": ["a", "b", "c"]},
        "cnt": {"N": "5"}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "1"}}},
        "l2": {"L": [{"S": "b"}]}, "l3": {"L": [{"S": "new"}]}, "s2": {"SS": ["z"]}
    }));
    assert_eq!(it, expected);
    let names: Vec<&str> = changes.attributes.iter().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "a", "c", "cnt", "gone", "l2", "l3", "lst", "m", "num", "s2", "st"
        ]
    );
    assert_eq!(
        changes.project(&it),
        item(
            json!({"a": {"S": "new"}, "c": {"N": "0"}, "cnt": {"N": "5"}, "num": {"N": "15"},
            "st": {"SS": ["a", "b", "c"]}, "m": {"M": {"y": {"N": "1"}}}, "s2": {"SS": ["z"]},
            "lst": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]}, "l2": {"L": [{"S": "b"}]}})
        )
    );
}

#[test]
fn update_apply_errors() {
    let msg = |src: &str, start: serde_json::Value| {
        run_update(src, json!({":a": {"SS": ["a"]}, ":n": {"N": "1"}}), start)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        msg("set c = b", json!({})),
        "The provided expression refers to an attribute that does not exist in the item"
    );
    assert_eq!(
        msg("set b.a = :n", json!({})),
        "The document path provided in the update expression is invalid for update"
    );
    assert_eq!(
        msg("set b[1] = :n", json!({"b": {"S": "x"}})),
        "The document path provided in the update expression is invalid for update"
    );
    assert_eq!(
        msg("remove y.a", json!({})),
        "The document path provided in the update expression is invalid for update"
    );
    assert_eq!(
        msg("add d :n", json!({"d": {"NS": ["1"]}})),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        msg("delete c :a", json!({"c": {"N": "1"}})),
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        msg("set e = b - :n", json!({"b": {"S": "x"}})),
        "An operand in the update expression has an incorrect data type"
    );
    // A failed update leaves the item as it was, even after earlier actions succeeded.
    let u = UpdateExpression::parse(
        "SET a = :n ADD d :n",
        &mut attrs(&[], json!({":n": {"N": "1"}})),
    )
    .unwrap();
    let mut it = item(json!({"d": {"S": "x"}}));
    assert!(u.apply(&mut it).is_err());
    assert_eq!(it, item(json!({"d": {"S": "x"}})));
    assert!(
        run_update(
            "delete d :a",
            json!({":a": {"SS": ["a"]}}),
            json!({"d": {"SS": ["a"]}})
        )
        .unwrap()
        .0
        .is_empty()
    );
}

#[test]
fn update_nesting_limit() {
    let mut deep = json!({"S": "x"});
    for _ in 0..32 {
        deep = json!({"L": [deep]});
    }
    let start = json!({"a": deep, "m": {"M": {}}});
    assert!(run_update("set b = a", json!({}), start.clone()).is_ok());
    assert_eq!(
        run_update("set m.x = a", json!({}), start)
            .unwrap_err()
            .to_string(),
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
    );
}

#[test]
fn projection() {
    let mut a = attrs(&[("#s", "status")], json!({}));
    let p = Projection::parse("a, b.c, l[3], l[1], #s", &mut a).unwrap();
    let it = item(json!({
        "a": {"N": "1"}, "b": {"M": {"c": {"S": "x"}, "d": {"S": "y"}}},
        "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]}, "status": {"BOOL": true}, "z": {"NULL": true}
    }));
    assert_eq!(
        p.apply(&it),
        item(
            json!({"a": {"N": "1"}, "b": {"M": {"c": {"S": "x"}}}, "l": {"L": [{"N": "1"}, {"N": "3"}]}, "status": {"BOOL": true}})
        )
    );
    let err = Projection::parse("a, a.b", &mut attrs(&[], json!({})))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
    );
    assert!(a.check_unused().is_ok());
}

#[test]
fn unused_placeholders() {
    let mut a = attrs(
        &[("#a", "a"), ("#b", "b")],
        json!({":a": {"S": "x"}, ":c": {"S": "y"}}),
    );
    Condition::parse("#a = :a", ExprKind::Condition, &mut a).unwrap();
    assert_eq!(
        a.check_unused().unwrap_err().to_string(),
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
    );
    Condition::parse("#b = :a", ExprKind::Filter, &mut a).unwrap();
    assert_eq!(
        a.check_unused().unwrap_err().to_string(),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:c}"
    );
}

#[test]
fn key_conditions() {
    let mut a = attrs(
        &[],
        json!({":h": {"S": "h"}, ":lo": {"N": "1"}, ":hi": {"N": "9"}, ":p": {"S": "ab"}}),
    );
    let kc = KeyCondition::parse("pk = :h AND sk BETWEEN :lo AND :hi", &mut a).unwrap();
    let (h, r) = kc.resolve("pk", Some("sk")).unwrap();
    assert_eq!(h, AttributeValue::s("h"));
    let r = r.unwrap();
    assert!(r.matches(&AttributeValue::n("5").unwrap()));
    assert!(!r.matches(&AttributeValue::n("10").unwrap()));
    let kc = KeyCondition::parse("begins_with(sk, :p) AND pk = :h", &mut a).unwrap();
    let (_, r) = kc.resolve("pk", Some("sk")).unwrap();
    assert!(r.unwrap().matches(&AttributeValue::s("abc")));
    let kc = KeyCondition::parse("sk = :h", &mut a).unwrap();
    assert_eq!(
        kc.resolve("pk", Some("sk")).unwrap_err().to_string(),
        "Query condition missed key schema element: pk"
    );
    // Two conditions that cannot be the hash and the sort key.
    for (expression, range) in [
        ("pk = :h AND color = :h", None),
        ("x = :h AND y = :h", Some("sk")),
    ] {
        let kc = KeyCondition::parse(expression, &mut a).unwrap();
        assert_eq!(
            kc.resolve("pk", range).unwrap_err().to_string(),
            "Query key condition not supported",
            "{expression}"
        );
    }
    let kc = KeyCondition::parse("pk = :h AND color = :h", &mut a).unwrap();
    assert_eq!(
        kc.resolve("pk", Some("sk")).unwrap_err().to_string(),
        "Query condition missed key schema element: sk"
    );
    let kc = KeyCondition::parse("color = :h", &mut a).unwrap();
    assert_eq!(
        kc.resolve("pk", Some("sk")).unwrap_err().to_string(),
        "Query condition missed key schema element: pk"
    );
    let kc = KeyCondition::parse("pk > :h", &mut a).unwrap();
    assert_eq!(
        kc.resolve("pk", Some("sk")).unwrap_err().to_string(),
        "Query key condition not supported"
    );
    assert_eq!(
        KeyCondition::parse("pk = :h OR sk = :h", &mut a)
            .unwrap_err()
            .to_string(),
        "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR"
    );
}

#[test]
fn limits() {
    let long = format!("a = :v{}", " ".repeat(MAX_EXPRESSION_SIZE));
    assert!(
        cond_err(&long, json!({":v": {"S": "x"}}))
            .contains("Expression size has exceeded the maximum allowed size")
    );
    let many = vec![":v"; MAX_IN_OPERANDS + 1].join(", ");
    assert!(
        cond_err(&format!("a IN ({many})"), json!({":v": {"S": "x"}}))
            .contains("too many operands")
    );
    let _ = BTreeMap::<String, String>::new();
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsers_never_panic(src in "[a-c#:()\\[\\]0-9.,=<> +\\-]{0,40}|(SET|REMOVE|ADD|DELETE|AND|OR|NOT|BETWEEN|IN|size|contains|[a-c]|:v|#n|[0-9]|[=<>(),.\\[\\]+-]| ){0,20}") {
            let values = json!({":v": {"N": "1"}});
            let _ = Condition::parse(&src, ExprKind::Condition, &mut attrs(&[("#n", "n")], values.clone()));
            let _ = UpdateExpression::parse(&src, &mut attrs(&[("#n", "n")], values.clone()));
            let _ = Projection::parse(&src, &mut attrs(&[("#n", "n")], values.clone()));
            let _ = KeyCondition::parse(&src, &mut attrs(&[("#n", "n")], values));
        }
    }
}

/// Parentheses nested past what any valid expression needs are refused before the parser
/// recurses into them (thousands of levels fit in the 4 KB size limit and would exhaust the
/// stack); the deepest nesting a valid expression can have still parses.
#[test]
fn paren_nesting_is_bounded() {
    let v = json!({":v": {"N": "1"}});
    let deep = |n: usize| format!("{}a < :v{}", "(".repeat(n), ")".repeat(n));
    assert!(cond_err(&deep(2000), v.clone()).contains("redundant parentheses"));
    let open = cond_err(&"(".repeat(4000), v.clone());
    assert!(open.contains("Syntax error; token: \"<EOF>\""), "{open}");
    // One operator per level: 150 of `a < :v AND (...)` plus the innermost comparison.
    let mut nested = "a < :v".to_owned();
    for _ in 0..149 {
        nested = format!("a < :v AND ({nested})");
    }
    assert!(cond(&nested, v.clone()).is_ok());
    let mut nots = "a < :v".to_owned();
    for _ in 0..299 {
        nots = format!("NOT ({nots})");
    }
    assert!(cond(&nots, v).is_ok());
}

#[test]
fn document_paths_nest_at_most_32_levels() {
    let path = |n: usize| format!("a{}", ".b".repeat(n - 1));
    assert!(cond(&format!("attribute_exists({})", path(32)), json!({})).is_ok());
    let err = cond_err(&format!("attribute_exists({})", path(33)), json!({}));
    assert!(
        err.contains("The document path has too many nesting levels; nesting levels: 33"),
        "{err}"
    );
}
