//! The wall between workspaces, tried at random: sequences of SCIM and admin operations by two
//! workspaces' callers, each naming its own resources and the other's. No answer may show one
//! workspace the other's ids, no operation may change or reference them, and at the end every
//! row of every tenant table holds only its own workspace's ids. On SQLite, whose database has
//! no row-level security, this is the wall's only proof beyond the scoped queries themselves.

use actix_web::http::Method;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use webwork_scim_domain::Workspace;

use crate::support::*;

#[derive(Debug, Clone)]
enum Step {
    CreateUser,
    PatchUser(Index, bool),
    DeleteUser(Index),
    GetUser(Index),
    CreateGroup(Vec<Index>),
    AddMember(Index, Index),
    DeleteGroup(Index),
    ListUsers,
    IssueToken,
    RevokeToken(Index),
    ReadAudit,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::CreateUser),
        2 => (any::<Index>(), any::<bool>()).prop_map(|(i, a)| Step::PatchUser(i, a)),
        1 => any::<Index>().prop_map(Step::DeleteUser),
        1 => any::<Index>().prop_map(Step::GetUser),
        2 => prop::collection::vec(any::<Index>(), 0..3).prop_map(Step::CreateGroup),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(g, u)| Step::AddMember(g, u)),
        1 => any::<Index>().prop_map(Step::DeleteGroup),
        1 => Just(Step::ListUsers),
        1 => Just(Step::IssueToken),
        1 => any::<Index>().prop_map(Step::RevokeToken),
        1 => Just(Step::ReadAudit),
    ]
}

/// A resource and the workspace (0 or 1) that owns it; `live` until deleted or revoked.
#[derive(Debug, Clone)]
struct Known {
    owner: usize,
    id: String,
    live: bool,
}

/// What the test knows of both workspaces: their resources, in creation order.
struct World {
    app: TestApp,
    workspaces: [Workspace; 2],
    tokens: [String; 2],
    users: Vec<Known>,
    groups: Vec<Known>,
    token_ids: Vec<Known>,
    made: usize,
    /// The ids the current request names: an error may echo them back.
    named: Vec<String>,
}

impl World {
    fn pick(list: &[Known], index: &Index) -> Option<Known> {
        (!list.is_empty()).then(|| list[index.index(list.len())].clone())
    }

    /// The resource `index` picks from `list`, remembered as named by the current request.
    fn name(&mut self, list: fn(&World) -> &[Known], index: &Index) -> Option<Known> {
        let picked = World::pick(list(self), index)?;
        self.named.push(picked.id.clone());
        Some(picked)
    }

    /// Every id the other workspace owns, its own id included.
    fn foreign_ids(&self, caller: usize) -> Vec<String> {
        let all = self.users.iter().chain(&self.groups).chain(&self.token_ids);
        all.filter(|known| known.owner != caller)
            .map(|known| known.id.clone())
            .chain(std::iter::once(self.workspaces[1 - caller].id.to_string()))
            .collect()
    }

    /// Every id workspace `owner` may hold: its resources and itself.
    fn own_ids(&self, owner: usize) -> Vec<String> {
        let all = self.users.iter().chain(&self.groups).chain(&self.token_ids);
        all.filter(|known| known.owner == owner)
            .map(|known| known.id.clone())
            .chain(std::iter::once(self.workspaces[owner].id.to_string()))
            .collect()
    }

    /// An answer to `caller` never shows the other workspace's ids.
    fn check_answer(&self, caller: usize, response: &Response) {
        let text = response.body.to_string();
        for id in self.foreign_ids(caller) {
            if self.named.contains(&id) && response.status.is_client_error() {
                continue;
            }
            assert!(
                !text.contains(&id),
                "workspace {caller} was shown {id}: {text}"
            );
        }
    }
}

async fn run_step(world: &mut World, caller: usize, step: &Step) {
    world.named.clear();
    let (ws, token) = (
        world.workspaces[caller].clone(),
        world.tokens[caller].clone(),
    );
    let response = match step {
        Step::CreateUser => {
            world.made += 1;
            let body = json!({"userName": format!("u{}@iso.test", world.made)});
            let response = world.app.post(&users(&ws), &token, &body).await;
            let id = id_of(&response.body);
            world.users.push(Known {
                owner: caller,
                id,
                live: true,
            });
            assert_eq!(response.status.as_u16(), 201);
            response
        }
        Step::PatchUser(index, _) | Step::DeleteUser(index) | Step::GetUser(index) => {
            user_step(world, caller, step, index).await
        }
        Step::CreateGroup(members) => create_group(world, caller, members).await,
        Step::AddMember(group, member) => add_member(world, caller, group, member).await,
        Step::DeleteGroup(index) => {
            let Some(group) = world.name(|w| &w.groups, index) else {
                return;
            };
            let path = format!("/scim/v2/{}/Groups/{}", ws.key, group.id);
            let response = world.app.delete(&path, &token).await;
            let mine = group.owner == caller && group.live;
            assert_eq!(response.status.as_u16(), if mine { 204 } else { 404 });
            if mine {
                mark_gone(&mut world.groups, &group.id);
            }
            response
        }
        Step::ListUsers => {
            let response = world.app.get(&users(&ws), &token).await;
            assert_eq!(response.status.as_u16(), 200);
            response
        }
        Step::IssueToken | Step::RevokeToken(_) | Step::ReadAudit => {
            admin_step(world, caller, step).await
        }
    };
    world.check_answer(caller, &response);
}

fn mark_gone(list: &mut [Known], id: &str) {
    if let Some(known) = list.iter_mut().find(|known| known.id == id) {
        known.live = false;
    }
}

async fn user_step(world: &mut World, caller: usize, step: &Step, index: &Index) -> Response {
    let Some(target) = world.name(|w| &w.users, index) else {
        return world
            .app
            .get(&users(&world.workspaces[caller]), &world.tokens[caller])
            .await;
    };
    let (ws, token) = (&world.workspaces[caller], &world.tokens[caller]);
    let path = user(ws, &target.id);
    let mine = target.owner == caller && target.live;
    let (response, expected) = match step {
        Step::PatchUser(_, active) => (
            world.app.patch(&path, token, &patch_active(*active)).await,
            200,
        ),
        Step::DeleteUser(_) => (world.app.delete(&path, token).await, 204),
        _ => (world.app.get(&path, token).await, 200),
    };
    assert_eq!(
        response.status.as_u16(),
        if mine { expected } else { 404 },
        "{step:?}"
    );
    if mine && matches!(step, Step::DeleteUser(_)) {
        mark_gone(&mut world.users, &target.id);
    }
    response
}

async fn create_group(world: &mut World, caller: usize, members: &[Index]) -> Response {
    world.made += 1;
    let picked: Vec<Known> = members
        .iter()
        .filter_map(|index| world.name(|w| &w.users, index))
        .collect();
    let values: Vec<Value> = picked.iter().map(|m| json!({"value": m.id})).collect();
    let body = json!({"displayName": format!("g{}", world.made), "members": values});
    let ws = &world.workspaces[caller];
    let path = format!("/scim/v2/{}/Groups", ws.key);
    let response = world.app.post(&path, &world.tokens[caller], &body).await;
    if picked.iter().all(|m| m.owner == caller && m.live) {
        assert_eq!(response.status.as_u16(), 201, "{}", response.body);
        let id = id_of(&response.body);
        world.groups.push(Known {
            owner: caller,
            id,
            live: true,
        });
    } else {
        response.assert_scim_error(400, Some("invalidValue"));
    }
    response
}

async fn add_member(world: &mut World, caller: usize, group: &Index, member: &Index) -> Response {
    let (Some(group), Some(member)) = (
        world.name(|w| &w.groups, group),
        world.name(|w| &w.users, member),
    ) else {
        return world
            .app
            .get(&users(&world.workspaces[caller]), &world.tokens[caller])
            .await;
    };
    let ws = &world.workspaces[caller];
    let path = format!("/scim/v2/{}/Groups/{}", ws.key, group.id);
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": member.id}]}]
    });
    let response = world.app.patch(&path, &world.tokens[caller], &body).await;
    if group.owner != caller || !group.live {
        response.assert_scim_error(404, None);
    } else if member.owner != caller || !member.live {
        response.assert_scim_error(400, Some("invalidValue"));
    } else {
        assert_eq!(response.status.as_u16(), 204, "{}", response.body);
    }
    response
}

async fn admin_step(world: &mut World, caller: usize, step: &Step) -> Response {
    let ws = &world.workspaces[caller];
    let admin = admin_of(ws);
    let tokens = format!("/api/v1/workspaces/{}/tokens", ws.key);
    match step {
        Step::IssueToken => {
            let body = json!({"label": "iso"});
            let response = world
                .app
                .call(Method::POST, &tokens, Some(&admin), Some(&body))
                .await;
            let active = world
                .token_ids
                .iter()
                .filter(|t| t.owner == caller && t.live)
                .count();
            let expected = if active < 5 { 201 } else { 409 };
            assert_eq!(response.status.as_u16(), expected, "{}", response.body);
            if expected == 201 {
                let id = response.body["id"].as_str().unwrap().to_owned();
                world.token_ids.push(Known {
                    owner: caller,
                    id,
                    live: true,
                });
            }
            response
        }
        Step::RevokeToken(index) => {
            let Some(token) = world.name(|w| &w.token_ids, index) else {
                return world
                    .app
                    .call(Method::GET, &tokens, Some(&admin), None)
                    .await;
            };
            // The token each caller uses stays: the sequence goes on.
            if token.id == world.token_ids[caller].id {
                return world
                    .app
                    .call(Method::GET, &tokens, Some(&admin), None)
                    .await;
            }
            let path = format!("{tokens}/{}", token.id);
            let response = world
                .app
                .call(Method::DELETE, &path, Some(&admin), None)
                .await;
            let mine = token.owner == caller;
            assert_eq!(response.status.as_u16(), if mine { 200 } else { 404 });
            if mine {
                mark_gone(&mut world.token_ids, &token.id);
            }
            response
        }
        _ => {
            let path = format!("/api/v1/workspaces/{}/audit-events?limit=500", ws.key);
            let response = world.app.call(Method::GET, &path, Some(&admin), None).await;
            assert_eq!(response.status.as_u16(), 200);
            response
        }
    }
}

/// Every `(workspace_id, id…)` row of the tenant tables, read past row-level security by the
/// owning role, holds only ids of its own workspace.
fn check_tables(world: &World) {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        workspace: String,
        #[diesel(sql_type = Text)]
        held: String,
    }
    let owner = world
        .app
        .db
        .owner_url
        .clone()
        .unwrap_or_else(|| world.app.db.url.clone());
    let mut conn = owner.connect().unwrap();
    let queries = [
        "SELECT workspace_id AS workspace, id AS held FROM users",
        "SELECT workspace_id AS workspace, id AS held FROM groups",
        "SELECT workspace_id AS workspace, group_id AS held FROM group_members",
        "SELECT workspace_id AS workspace, user_id AS held FROM group_members",
        "SELECT workspace_id AS workspace, id AS held FROM scim_tokens",
        "SELECT workspace_id AS workspace, COALESCE(target_id, '') AS held FROM audit_events",
        "SELECT workspace_id AS workspace, aggregate_id AS held FROM outbox_events",
        "SELECT workspace_id AS workspace, payload AS held FROM outbox_events",
    ];
    let owners: Vec<(String, Vec<String>, Vec<String>)> = (0..2)
        .map(|n| {
            (
                world.workspaces[n].id.to_string(),
                world.own_ids(n),
                world.foreign_ids(n),
            )
        })
        .collect();
    for query in queries {
        for row in diesel::sql_query(query).load::<Row>(&mut conn).unwrap() {
            let (_, own, foreign) = owners
                .iter()
                .find(|(id, _, _)| *id == row.workspace)
                .unwrap_or_else(|| panic!("a row of no known workspace: {query}"));
            if !row.held.starts_with('{') {
                assert!(
                    own.contains(&row.held),
                    "{query}: {} is not its own",
                    row.held
                );
            }
            for id in foreign {
                assert!(
                    !row.held.contains(id.as_str()),
                    "{query}: {id} in {}",
                    row.held
                );
            }
        }
    }
}

async fn run_case(steps: Vec<(bool, Step)>) {
    let app = TestApp::start().await;
    let (a, a_token) = app.premium("Acme").await;
    let (b, b_token) = app.premium("Globex").await;
    let mut token_ids = Vec::new();
    for (owner, ws) in [&a, &b].into_iter().enumerate() {
        let listed = app.use_cases().list_tokens(ws.key.as_str()).await.unwrap();
        let id = listed[0].id.to_string();
        token_ids.push(Known {
            owner,
            id,
            live: true,
        });
    }
    let mut world = World {
        app,
        workspaces: [a, b],
        tokens: [a_token, b_token],
        users: Vec::new(),
        groups: Vec::new(),
        token_ids,
        made: 0,
        named: Vec::new(),
    };
    for (by_b, step) in &steps {
        run_step(&mut world, usize::from(*by_b), step).await;
    }
    check_tables(&world);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn two_workspaces_never_see_change_or_reference_each_other(
        steps in prop::collection::vec((any::<bool>(), step()), 5..30)
    ) {
        actix_web::rt::System::new().block_on(run_case(steps));
    }
}
