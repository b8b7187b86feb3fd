//! `sortBy`: users by a column, by a value in the document, by an extension's attribute, with
//! rows without a value last and id breaking ties; groups by their name; the same on both
//! backends, with and without filters.

use serde_json::json;
use webwork_scim_domain::filter::{AttrPath, Filter};
use webwork_scim_domain::sort::SortBy;
use webwork_scim_domain::{Plan, WorkspaceId};
use webwork_scim_persistence::StoreError;
use webwork_scim_persistence::groups::{self, GroupQuery};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::users::{self, ListQuery};

use crate::support::*;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn sort(path: &str, descending: bool) -> SortBy {
    SortBy {
        path: AttrPath::parse(path).unwrap(),
        descending,
    }
}

/// Four users: some without a family name or a department, names in mixed case.
fn four_users(db: &TestDb) -> WorkspaceId {
    let ws = db.workspace("Acme", Plan::Premium, true);
    for (name, family, department) in [
        ("carol@acme.com", Some("zhang"), Some("Sales")),
        ("Alice@acme.com", Some("Young"), None),
        ("bob@acme.com", None, Some("engineering")),
        ("dave@acme.com", Some("adams"), Some("Sales")),
    ] {
        let mut body = json!({"userName": name});
        if let Some(family) = family {
            body["name"] = json!({"familyName": family});
        }
        if let Some(department) = department {
            body[ENTERPRISE] = json!({"department": department});
        }
        db.store
            .write(ws.id, |tx| users::insert(tx, &draft(body.clone()), None))
            .unwrap();
    }
    ws.id
}

fn list(
    db: &TestDb,
    ws: WorkspaceId,
    sort: &SortBy,
    filter: Option<&Filter>,
    window: (i64, i64),
) -> Result<Vec<String>, StoreError> {
    let page = db.store.read(ws, |tx| {
        users::list(
            tx,
            ListQuery {
                filter,
                sort: Some(sort),
                after: None,
                before: None,
                offset: window.0,
                limit: window.1,
            },
        )
    })?;
    Ok(page.users.into_iter().map(|u| u.user_name).collect())
}

#[test]
fn users_sort_by_columns_document_values_and_extensions() {
    let db = TestDb::new();
    let ws = four_users(&db);
    let names = |sort: &SortBy, filter: Option<&Filter>, offset: i64, limit: i64| -> Vec<String> {
        list(&db, ws, sort, filter, (offset, limit)).unwrap()
    };
    assert_eq!(
        names(&sort("userName", false), None, 0, 10),
        [
            "Alice@acme.com",
            "bob@acme.com",
            "carol@acme.com",
            "dave@acme.com"
        ]
    );
    assert_eq!(
        names(&sort("userName", true), None, 1, 2),
        ["carol@acme.com", "bob@acme.com"]
    );
    // Case is ignored and a user without the value comes last, ascending and descending.
    assert_eq!(
        names(&sort("name.familyName", false), None, 0, 10),
        [
            "dave@acme.com",
            "Alice@acme.com",
            "carol@acme.com",
            "bob@acme.com"
        ]
    );
    assert_eq!(
        names(&sort("name.familyName", true), None, 0, 10),
        [
            "carol@acme.com",
            "Alice@acme.com",
            "dave@acme.com",
            "bob@acme.com"
        ]
    );
    // Ties (two in Sales) keep the order of creation.
    let department = format!("{ENTERPRISE}:department");
    assert_eq!(
        names(&sort(&department, false), None, 0, 10),
        [
            "bob@acme.com",
            "carol@acme.com",
            "dave@acme.com",
            "Alice@acme.com"
        ]
    );
    // A filter checked row by row pages through the same order.
    let filter =
        Filter::parse(r#"emails[type eq "work" and value eq "x@y.io"] or userName ew "@acme.com""#)
            .unwrap();
    assert_eq!(
        names(&sort("name.familyName", false), Some(&filter), 1, 2),
        ["Alice@acme.com", "carol@acme.com"]
    );
    assert!(list(&db, ws, &sort("emails.type", false), None, (0, 10)).is_err());
}

#[test]
fn groups_sort_by_display_name() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    for name in ["sales", "Admins", "Engineering"] {
        db.store
            .write(ws.id, |tx| groups::insert(tx, &group_draft(name, &[])))
            .unwrap();
    }
    let listed = |sort: &SortBy| -> Vec<String> {
        db.store
            .read(ws.id, |tx| {
                groups::list(
                    tx,
                    GroupQuery {
                        filter: None,
                        sort: Some(sort),
                        after: None,
                        before: None,
                        offset: 0,
                        limit: 10,
                        with_members: false,
                        member_budget: i64::MAX,
                    },
                )
            })
            .unwrap()
            .groups
            .into_iter()
            .map(|g| g.display_name.as_str().to_owned())
            .collect()
    };
    assert_eq!(
        listed(&sort("displayName", false)),
        ["Admins", "Engineering", "sales"]
    );
    assert_eq!(
        listed(&sort("displayName", true)),
        ["sales", "Engineering", "Admins"]
    );
}
