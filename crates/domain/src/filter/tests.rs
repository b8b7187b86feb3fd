use serde_json::json;

use super::*;

fn parse(text: &str) -> Filter {
    Filter::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"))
}

fn cmp(name: &str, op: CompareOp, value: CompValue) -> Filter {
    Filter::Compare {
        path: AttrPath::simple(name),
        op,
        value,
    }
}

fn s(text: &str) -> CompValue {
    CompValue::String(text.into())
}

#[test]
fn okta_user_name_lookup() {
    assert_eq!(
        parse(r#"userName eq "jane@acme.com""#),
        cmp("userName", CompareOp::Eq, s("jane@acme.com"))
    );
}

#[test]
fn operators_and_keywords_are_case_insensitive() {
    assert_eq!(
        parse(r#"userName EQ "a" AND externalId Eq "b""#),
        Filter::And(
            Box::new(cmp("userName", CompareOp::Eq, s("a"))),
            Box::new(cmp("externalId", CompareOp::Eq, s("b"))),
        )
    );
    assert_eq!(
        parse("active eq TRUE"),
        cmp("active", CompareOp::Eq, CompValue::Bool(true))
    );
}

#[test]
fn and_binds_tighter_than_or_and_not_tighter_than_and() {
    let filter = parse(r#"a eq "1" or b eq "2" and not (c eq "3")"#);
    let expected = Filter::Or(
        Box::new(cmp("a", CompareOp::Eq, s("1"))),
        Box::new(Filter::And(
            Box::new(cmp("b", CompareOp::Eq, s("2"))),
            Box::new(Filter::Not(Box::new(cmp("c", CompareOp::Eq, s("3"))))),
        )),
    );
    assert_eq!(filter, expected);
}

#[test]
fn parentheses_group() {
    let filter = parse(r#"(a eq "1" or b eq "2") and c pr"#);
    assert!(matches!(filter, Filter::And(ref left, _) if matches!(**left, Filter::Or(..))));
}

#[test]
fn literals_of_every_type() {
    assert_eq!(parse("x eq null"), cmp("x", CompareOp::Eq, CompValue::Null));
    assert_eq!(
        parse("x gt 10"),
        cmp("x", CompareOp::Gt, CompValue::Number(10.into()))
    );
    assert_eq!(
        parse(r#"x eq "a \"quoted\" \u00e9""#),
        cmp("x", CompareOp::Eq, s("a \"quoted\" é"))
    );
}

#[test]
fn fully_qualified_and_sub_attribute_paths() {
    let filter = parse(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1""#,
    );
    let Filter::Compare { path, .. } = filter else {
        panic!("not a comparison")
    };
    assert_eq!(
        path.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(path.name, "manager");
    assert_eq!(path.sub.as_deref(), Some("value"));
    let Filter::Compare { path, .. } = parse(r#"name.familyName sw "O'""#) else {
        panic!()
    };
    assert_eq!(
        (path.name.as_str(), path.sub.as_deref()),
        ("name", Some("familyName"))
    );
}

#[test]
fn value_paths_and_entra_sub_attribute_suffix() {
    let filter = parse(r#"emails[type eq "work" and value co "@acme.com"]"#);
    assert!(matches!(filter, Filter::ValuePath { ref path, .. } if path.name == "emails"));
    let entra = parse(r#"emails[type eq "work"].value eq "jane@acme.com""#);
    let Filter::ValuePath { filter, .. } = entra else {
        panic!("not a value path")
    };
    assert!(matches!(*filter, Filter::And(..)));
}

#[test]
fn malformed_filters_are_refused_with_invalid_filter() {
    for bad in [
        "",
        "userName",
        "userName eq",
        r#"userName equals "x""#,
        r#"userName eq "unterminated"#,
        r#"userName eq jane"#,
        r#"(userName eq "a""#,
        r#"userName eq "a")"#,
        r#"userName eq "a" and"#,
        r#"emails[type eq "work""#,
        r#"emails[type[x eq "1"]]"#,
        r#"1abc eq "x""#,
        r#"userName eq "a" "b""#,
    ] {
        let err = Filter::parse(bad).expect_err(bad);
        assert_eq!(err.scim_type(), crate::ScimType::InvalidFilter, "{bad}");
    }
}

#[test]
fn hostile_nesting_and_length_are_bounded() {
    let deep = format!("{}a pr{}", "(".repeat(1000), ")".repeat(1000));
    assert!(Filter::parse(&deep).is_err());
    let long = format!(r#"userName eq "{}""#, "x".repeat(MAX_FILTER_LEN));
    assert!(Filter::parse(&long).is_err());
    let chain = vec!["a pr"; MAX_TERMS + 1].join(" or ");
    assert!(Filter::parse(&chain).is_err(), "or-chains are bounded");
    assert!(Filter::parse(&vec!["a pr"; MAX_TERMS].join(" or ")).is_ok());
    let path = format!("emails[{}]", vec!["a pr"; 200_000].join(" or "));
    assert!(
        PatchPath::parse(&path).is_err(),
        "PATCH paths are bounded too"
    );
}

#[test]
fn arbitrary_input_never_panics() {
    // A small deterministic generator over the filter alphabet stands in for a fuzzer here;
    // every output must be Ok or Err, never a panic.
    let alphabet: Vec<char> = "ab.:[]()\" \\eqandortpr1urn$_-é".chars().collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let len = (state % 24) as usize;
        let mut text = String::new();
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        let _ = Filter::parse(&text);
        let _ = PatchPath::parse(&text);
    }
}

#[test]
fn matcher_compares_user_name_case_insensitively_and_external_id_exactly() {
    let user = json!({"userName": "Jane@Acme.com", "externalId": "00uAbC"});
    assert!(matches(&parse(r#"username eq "jane@acme.COM""#), &user));
    assert!(matches(&parse(r#"externalId eq "00uAbC""#), &user));
    assert!(!matches(&parse(r#"externalId eq "00uabc""#), &user));
    assert!(matches(
        &parse(r#"userName sw "jane" and userName ew ".com""#),
        &user
    ));
    assert!(matches(&parse(r#"userName co "@ACME""#), &user));
    assert!(!matches(&parse(r#"not (userName pr)"#), &user));
    assert!(matches(&parse(r#"userName ne "bob""#), &user));
}

#[test]
fn matcher_handles_multi_valued_and_value_paths() {
    let user = json!({
        "emails": [
            {"type": "home", "value": "jane@home.example"},
            {"type": "work", "value": "jane@acme.com", "primary": true}
        ],
        "active": "False"
    });
    assert!(matches(&parse(r#"emails.value eq "jane@acme.com""#), &user));
    assert!(matches(
        &parse(r#"emails[type eq "work" and primary eq true]"#),
        &user
    ));
    // A quoted boolean, as identity providers write it, compares as the boolean.
    assert!(matches(&parse(r#"emails[primary eq "True"]"#), &user));
    assert!(!matches(
        &parse(r#"emails[primary ne "true"]"#),
        &json!({"emails": [{"primary": true}]})
    ));
    assert!(!matches(
        &parse(r#"emails[type eq "work" and value eq "jane@home.example"]"#),
        &user
    ));
    assert!(matches(
        &parse(r#"emails[type eq "work"].value eq "JANE@acme.com""#),
        &user
    ));
    assert!(matches(&parse("active eq false"), &user));
    assert!(!matches(&parse("phoneNumbers pr"), &user));
}

#[test]
fn patch_paths_parse() {
    let path = PatchPath::parse(r#"emails[type eq "work"].value"#).unwrap();
    let PatchPath::Attribute { attr, filter, sub } = path else {
        panic!()
    };
    assert_eq!(attr.name, "emails");
    assert!(filter.is_some());
    assert_eq!(sub.as_deref(), Some("value"));
    assert_eq!(
        PatchPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").unwrap(),
        PatchPath::Extension(crate::schema::ENTERPRISE_USER)
    );
    let PatchPath::Attribute { attr, .. } = PatchPath::parse("name.givenName").unwrap() else {
        panic!()
    };
    assert_eq!(attr.sub.as_deref(), Some("givenName"));
    for bad in [
        "",
        "emails[type eq \"work\"",
        "emails[type eq \"work\"]x",
        "9x",
        "name.given.name",
    ] {
        assert!(PatchPath::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn timestamps_compare_as_instants_whatever_their_offsets() {
    let user = json!({"meta": {"lastModified": "2025-06-01T09:30:00.123Z"}});
    for (filter, expected) in [
        (r#"meta.lastModified gt "2025-06-01T10:00:00+02:00""#, true),
        (r#"meta.lastModified lt "2025-06-01T11:00:00+02:00""#, false),
        (
            r#"meta.lastModified eq "2025-06-01T11:30:00.123+02:00""#,
            true,
        ),
        (r#"meta.lastModified ge "2025-06-01T09:30:00Z""#, true),
    ] {
        assert_eq!(matches(&parse(filter), &user), expected, "{filter}");
    }
}

#[test]
fn only_user_name_equality_selects_at_most_one_user() {
    for one in [
        r#"userName eq "jane@acme.com""#,
        r#"USERNAME eq "jane@acme.com""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "jane""#,
        r#"userName eq "jane" and active eq true"#,
        r#"active eq true and (userName eq "jane" and title pr)"#,
    ] {
        assert!(parse(one).selects_at_most_one_user(), "{one}");
    }
    for many in [
        r#"userName ne "jane""#,
        r#"userName sw "j""#,
        r#"userName eq "jane" or userName eq "joe""#,
        r#"not (userName eq "jane")"#,
        r#"externalId eq "00u1""#,
        r#"emails[value eq "jane@acme.com"]"#,
        r#"name.userName eq "jane""#,
        "userName eq null",
    ] {
        assert!(!parse(many).selects_at_most_one_user(), "{many}");
    }
}
