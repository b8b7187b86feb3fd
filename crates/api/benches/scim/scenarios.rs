//! What each scenario sends, and what it is held to.

use serde_json::json;

use crate::fixture::Tenant;
use crate::wrk::Line;

/// What a scenario's rate is held to.
#[derive(Clone, Copy)]
pub enum Target {
    /// At least this share of the ceiling's requests/s measured in the same run (on SQLite;
    /// half of it on PostgreSQL, which shares the cores).
    Ceiling(f64),
    /// At least this share of the argon2id hashes/s this machine does with our parameters, on
    /// both backends: such a request is almost all hashing.
    Hashing(f64),
    /// Measured, not held to a rate.
    None,
}

pub struct Scenario {
    pub name: &'static str,
    pub slug: &'static str,
    pub target: Target,
    /// Where the requests go, drawn from the seeded workspaces.
    pub lines: Lines,
}

/// A source of random picks among the seeded workspaces (splitmix64: repeatable runs).
pub struct Draw<'a> {
    pub tenants: &'a [Tenant],
    state: u64,
    /// Requests each scenario file holds; enough that creations never run out.
    pub lines: usize,
    /// Tells this run's created users apart from an earlier scenario's.
    pub run: &'static str,
}

impl<'a> Draw<'a> {
    pub fn new(tenants: &'a [Tenant], lines: usize, run: &'static str) -> Draw<'a> {
        Draw {
            tenants,
            state: 0x5eed,
            lines,
            run,
        }
    }

    fn next(&mut self, below: usize) -> usize {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % below.max(1) as u64) as usize
    }

    fn tenant(&mut self) -> &'a Tenant {
        let tenants = self.tenants;
        &tenants[self.next(tenants.len())]
    }

    fn user(&mut self) -> (&'a Tenant, usize) {
        let tenant = self.tenant();
        (tenant, self.next(tenant.users.len()))
    }

    fn each(&mut self, count: usize, mut line: impl FnMut(&mut Self, usize) -> Line) -> Vec<Line> {
        (0..count).map(|n| line(self, n)).collect()
    }
}

fn encoded(text: &str) -> String {
    text.replace('@', "%40")
}

pub fn lookup(tenant: &Tenant, user_name: &str) -> Line {
    Line::get(
        format!(
            "{}/Users?filter=userName%20eq%20%22{}%22",
            tenant.base(),
            encoded(user_name)
        ),
        &tenant.token,
    )
}

pub fn create(tenant: &Tenant, user_name: &str, password: Option<&str>) -> Line {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "New", "familyName": "Hire"},
        "emails": [{"value": user_name, "primary": true, "type": "work"}],
        "active": true,
    });
    if let Some(password) = password {
        body["password"] = json!(password);
    }
    Line::with_body(
        "POST",
        format!("{}/Users", tenant.base()),
        &tenant.token,
        body.to_string(),
    )
}

fn replace(tenant: &Tenant, user: usize, n: usize) -> Line {
    let user_name = tenant.user_name(user);
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Bench", "familyName": format!("Renamed {n}")},
        "emails": [{"value": user_name, "primary": true, "type": "work"}],
        "title": "Engineer",
        "active": true,
    });
    Line::with_body(
        "PUT",
        format!("{}/Users/{}", tenant.base(), tenant.users[user]),
        &tenant.token,
        body.to_string(),
    )
}

fn patch_body(operations: serde_json::Value) -> String {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
        .to_string()
}

fn ceiling(_: &mut Draw<'_>) -> Vec<Line> {
    vec![healthz()]
}

/// The unauthenticated route that touches no database.
pub fn healthz() -> Line {
    Line {
        method: "GET",
        path: "/healthz".into(),
        token: None,
        body: None,
    }
}

fn credentials(draw: &mut Draw<'_>) -> Vec<Line> {
    draw.each(draw.lines, |draw, _| {
        let tenant = draw.tenant();
        Line::get(
            format!("{}/Users?startIndex=1&count=2", tenant.base()),
            &tenant.token,
        )
    })
}

fn user_name_eq(draw: &mut Draw<'_>) -> Vec<Line> {
    draw.each(draw.lines, |draw, _| {
        let (tenant, user) = draw.user();
        lookup(tenant, &tenant.user_name(user))
    })
}

fn get_by_id(draw: &mut Draw<'_>) -> Vec<Line> {
    draw.each(draw.lines, |draw, _| {
        let (tenant, user) = draw.user();
        Line::get(
            format!("{}/Users/{}", tenant.base(), tenant.users[user]),
            &tenant.token,
        )
    })
}

fn first_page(draw: &mut Draw<'_>) -> Vec<Line> {
    draw.each(draw.lines, |draw, _| {
        let tenant = draw.tenant();
        Line::get(
            format!("{}/Users?startIndex=1&count=100", tenant.base()),
            &tenant.token,
        )
    })
}

fn last_page(draw: &mut Draw<'_>) -> Vec<Line> {
    draw.each(draw.lines, |draw, _| {
        let tenant = draw.tenant();
        let start = tenant.users.len().saturating_sub(99).max(1);
        Line::get(
            format!("{}/Users?startIndex={start}&count=100", tenant.base()),
            &tenant.token,
        )
    })
}

fn patch_active(draw: &mut Draw<'_>) -> Vec<Line> {
    // Users deactivated, then the same users reactivated (the seat check included).
    let half = draw.lines / 2;
    let picks: Vec<_> = (0..half).map(|_| draw.user()).collect();
    [false, true]
        .iter()
        .flat_map(|active| {
            picks.iter().map(move |(tenant, user)| {
                Line::with_body(
                    "PATCH",
                    format!("{}/Users/{}", tenant.base(), tenant.users[*user]),
                    &tenant.token,
                    patch_body(json!([{"op": "replace", "value": {"active": active}}])),
                )
            })
        })
        .collect()
}

fn put(draw: &mut Draw<'_>) -> Vec<Line> {
    draw.each(draw.lines, |draw, n| {
        let (tenant, user) = draw.user();
        replace(tenant, user, n)
    })
}

fn post(draw: &mut Draw<'_>) -> Vec<Line> {
    let run = draw.run;
    draw.each(draw.lines, |draw, n| {
        create(draw.tenant(), &format!("{run}{n}@new.example"), None)
    })
}

fn post_with_password(draw: &mut Draw<'_>) -> Vec<Line> {
    let run = draw.run;
    draw.each(draw.lines, |draw, n| {
        create(
            draw.tenant(),
            &format!("{run}{n}@new.example"),
            Some(&format!("Correct-horse-{n}")),
        )
    })
}

/// Group Push: 256 members added to a group at once, each (group, members) pair once per pass.
fn add_members(draw: &mut Draw<'_>) -> Vec<Line> {
    let mut lines = Vec::new();
    for chunk in 0..4 {
        for tenant in draw.tenants {
            for group in &tenant.groups {
                let users = &tenant.users;
                let value: Vec<_> = (0..256)
                    .map(|k| json!({"value": users[(chunk * 256 + k) % users.len()].to_string()}))
                    .collect();
                lines.push(Line::with_body(
                    "PATCH",
                    format!("{}/Groups/{group}", tenant.base()),
                    &tenant.token,
                    patch_body(json!([{"op": "add", "path": "members", "value": value}])),
                ));
            }
        }
    }
    lines
}

/// Okta importing into every workspace at once: a look-up that misses and the creation that
/// follows, a look-up that finds an existing user and the profile update that follows.
fn okta_import(draw: &mut Draw<'_>) -> Vec<Line> {
    let run = draw.run;
    let mut lines = Vec::with_capacity(draw.lines);
    for n in 0..draw.lines / 4 {
        let tenant = &draw.tenants[n % draw.tenants.len()];
        let user_name = format!("{run}{n}@import.example");
        lines.push(lookup(tenant, &user_name));
        lines.push(create(tenant, &user_name, None));
        let user = draw.next(tenant.users.len());
        lines.push(lookup(tenant, &tenant.user_name(user)));
        lines.push(replace(tenant, user, n));
    }
    lines
}

type Lines = fn(&mut Draw<'_>) -> Vec<Line>;

/// Every scenario in the order they run: reads before the writes that add users.
pub fn all() -> Vec<Scenario> {
    let table: [(&'static str, &'static str, Target, Lines); 12] = [
        ("Ceiling: GET /healthz", "ceiling", Target::None, ceiling),
        (
            "Test API Credentials: ?startIndex=1&count=2",
            "credentials",
            Target::None,
            credentials,
        ),
        (
            "Lookup: ?filter=userName eq",
            "user_name_eq",
            Target::Ceiling(0.35),
            user_name_eq,
        ),
        (
            "GET /Users/{id}",
            "get_by_id",
            Target::Ceiling(0.40),
            get_by_id,
        ),
        (
            "Page of 100, first",
            "first_page",
            Target::Ceiling(0.03),
            first_page,
        ),
        (
            "Page of 100, last",
            "last_page",
            Target::Ceiling(0.03),
            last_page,
        ),
        (
            "PATCH active (deactivate, reactivate)",
            "patch_active",
            Target::Ceiling(0.10),
            patch_active,
        ),
        ("PUT /Users/{id}", "put", Target::None, put),
        ("POST /Users", "post", Target::Ceiling(0.08), post),
        (
            "POST /Users with a password",
            "post_password",
            Target::Hashing(0.9),
            post_with_password,
        ),
        (
            "Group Push: PATCH adding 256 members",
            "add_members",
            Target::None,
            add_members,
        ),
        (
            "Okta import, every workspace at once",
            "okta_import",
            Target::None,
            okta_import,
        ),
    ];
    table
        .into_iter()
        .map(|(name, slug, target, lines)| Scenario {
            name,
            slug,
            target,
            lines,
        })
        .collect()
}
