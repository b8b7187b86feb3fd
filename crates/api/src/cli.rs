//! The command line: `serve`, `migrate`, and workspace and token administration. Every admin
//! command prints one JSON object with `--json`; a refused request exits with code 2.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a command line prints by design

use std::process::ExitCode;

use clap::{ArgGroup, Parser, Subcommand};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webwork_scim_domain::{PlainText, Plan, Workspace, WorkspaceName};
use webwork_scim_persistence::tokens::TokenSummary;
use webwork_scim_persistence::workspaces::WorkspaceUpdate;

use crate::config::{CommonSettings, ServeSettings};
use crate::server::{self, ServeError};
use crate::state::{AppConfig, scim_base_url};
use crate::usecases::tokens::MAX_LABEL_CHARS;
use crate::usecases::workspaces::NewWorkspace;
use crate::usecases::{AdminError, Caller, UseCases};

#[derive(Debug, Parser)]
#[command(
    name = "webwork-scim",
    version,
    about = "SCIM 2.0 provisioning for WebWork Time Tracker"
)]
#[command(arg_required_else_help = true)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonSettings,

    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the SCIM API.
    Serve(Box<ServeSettings>),
    /// Apply pending database migrations.
    Migrate,
    /// Manage workspaces.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Manage a workspace's SCIM API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

fn parse_plan(raw: &str) -> Result<Plan, String> {
    raw.parse()
        .map_err(|err: webwork_scim_domain::DomainError| err.to_string())
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace and print its key and SCIM Base URL.
    Create {
        #[arg(long)]
        name: String,
        /// free, pro, premium or enterprise
        #[arg(long, value_parser = parse_plan)]
        plan: Plan,
        /// Turn single sign-on on.
        #[arg(long)]
        sso: bool,
    },
    /// Move a workspace to another plan.
    SetPlan {
        key: String,
        #[arg(value_parser = parse_plan)]
        plan: Plan,
    },
    /// Turn single sign-on on or off.
    #[command(group(ArgGroup::new("state").required(true).args(["enable", "disable"])))]
    Sso {
        key: String,
        #[arg(long)]
        enable: bool,
        #[arg(long)]
        disable: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a SCIM API token; the token is printed only this once.
    Issue {
        key: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List a workspace's tokens (never their secrets).
    List { key: String },
    /// Revoke a token at once.
    Revoke { key: String, token_id: String },
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Serve(settings) => {
            let served =
                actix_web::rt::System::new().block_on(server::serve(cli.common, *settings));
            finish_serve(served)
        }
        Command::Migrate => match server::migrate(&cli.common) {
            Ok(applied) => {
                emit(cli.json, &json!({"applied": applied}), || {
                    if applied.is_empty() {
                        "The database is up to date.".into()
                    } else {
                        format!(
                            "Applied {} migration(s): {}",
                            applied.len(),
                            applied.join(", ")
                        )
                    }
                });
                ExitCode::SUCCESS
            }
            Err(err) => fail(&err.to_string(), 1),
        },
        Command::Workspace(command) => {
            let base = cli.common.public_base_url();
            finish(admin_command(&cli.common, cli.json, async |use_cases| {
                workspace_command(use_cases, &base, command).await
            }))
        }
        Command::Token(command) => {
            finish(admin_command(&cli.common, cli.json, async |use_cases| {
                token_command(use_cases, command).await
            }))
        }
    }
}

/// Text for people, JSON for scripts.
type Output = (Value, String);

/// Why a command could not run at all.
#[derive(Debug, thiserror::Error)]
enum CommandError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Startup(#[from] ServeError),
    #[error("the runtime could not start: {0}")]
    Runtime(#[from] std::io::Error),
}

impl CommandError {
    fn exit_code(&self) -> u8 {
        match self {
            CommandError::Admin(err) => err.exit_code(),
            CommandError::Startup(_) | CommandError::Runtime(_) => 1,
        }
    }
}

/// Runs one administration command on the use cases, in a runtime of its own.
fn admin_command(
    common: &CommonSettings,
    json: bool,
    f: impl AsyncFnOnce(&UseCases) -> Result<Output, AdminError>,
) -> Result<(), CommandError> {
    let store = server::open_store(common)?;
    let defaults = AppConfig::new(&common.public_base_url());
    let settings = webwork_scim_tenancy::AuthSettings {
        token_ttl: defaults.token_cache_ttl,
        tenant_ttl: defaults.tenant_cache_ttl,
        failures_per_prefix: defaults.failed_auth_per_prefix,
        failure_window: defaults.failed_auth_window,
        capacity: 16,
    };
    let use_cases = UseCases::new(store, 1, settings)
        .map_err(|err| CommandError::Admin(AdminError::Issue(err)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (value, text) = runtime.block_on(f(&use_cases))?;
    emit(json, &value, || text);
    Ok(())
}

async fn workspace_command(
    use_cases: &UseCases,
    base: &str,
    command: WorkspaceCommand,
) -> Result<Output, AdminError> {
    let operator = Caller::operator();
    let workspace = match command {
        WorkspaceCommand::Create { name, plan, sso } => {
            let new = NewWorkspace {
                name: WorkspaceName::parse(&name)?,
                plan,
                sso_enabled: sso,
                seats: None,
            };
            use_cases.create_workspace(&operator, new).await?
        }
        WorkspaceCommand::SetPlan { key, plan } => {
            let update = WorkspaceUpdate {
                plan: Some(plan),
                ..WorkspaceUpdate::default()
            };
            use_cases.update_workspace(&operator, &key, update).await?
        }
        WorkspaceCommand::Sso { key, enable, .. } => {
            let update = WorkspaceUpdate {
                sso_enabled: Some(enable),
                ..WorkspaceUpdate::default()
            };
            use_cases.update_workspace(&operator, &key, update).await?
        }
    };
    Ok(workspace_output(&workspace, base))
}

fn workspace_output(workspace: &Workspace, base: &str) -> Output {
    let url = scim_base_url(base, workspace.key.as_str());
    let value = json!({
        "key": workspace.key.as_str(),
        "id": workspace.id.to_string(),
        "name": workspace.name,
        "plan": workspace.plan.as_str(),
        "sso_enabled": workspace.sso_enabled,
        "scim_base_url": url,
    });
    let text = format!(
        "Workspace {} ({}): plan {}, SSO {}\nSCIM Base URL: {url}",
        workspace.key,
        workspace.name,
        workspace.plan,
        if workspace.sso_enabled {
            "enabled"
        } else {
            "disabled"
        },
    );
    (value, text)
}

async fn token_command(use_cases: &UseCases, command: TokenCommand) -> Result<Output, AdminError> {
    let operator = Caller::operator();
    match command {
        TokenCommand::Issue { key, label } => {
            let label = PlainText::parse("label", label.trim(), MAX_LABEL_CHARS)?;
            let token = use_cases.issue_token(&operator, &key, label, None).await?;
            let mut value = token_json(&token.summary);
            value["token"] = json!(token.plaintext);
            let text = format!(
                "Token {} issued. Copy it now; it is not shown again:\n{}",
                token.summary.id, token.plaintext
            );
            Ok((value, text))
        }
        TokenCommand::List { key } => {
            let tokens = use_cases.list_tokens(&key).await?;
            let text = tokens
                .iter()
                .map(|t| {
                    let state = if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    format!("{}  {}…  {state}  {}", t.id, t.prefix, t.label)
                })
                .collect::<Vec<_>>()
                .join("\n");
            let value = json!({"tokens": tokens.iter().map(token_json).collect::<Vec<_>>()});
            Ok((
                value,
                if text.is_empty() {
                    "No tokens.".into()
                } else {
                    text
                },
            ))
        }
        TokenCommand::Revoke { key, token_id } => {
            let token = use_cases.revoke_token(&operator, &key, &token_id).await?;
            Ok((token_json(&token), format!("Token {} revoked.", token.id)))
        }
    }
}

fn time_json(at: Option<OffsetDateTime>) -> Value {
    at.and_then(|at| at.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

fn token_json(token: &TokenSummary) -> Value {
    json!({
        "id": token.id.to_string(),
        "prefix": token.prefix,
        "label": token.label,
        "created_at": time_json(Some(token.created_at)),
        "last_used_at": time_json(token.last_used_at),
        "expires_at": time_json(token.expires_at),
        "revoked_at": time_json(token.revoked_at),
    })
}

fn emit(json: bool, value: &Value, text: impl FnOnce() -> String) {
    if json {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

fn finish(result: Result<(), CommandError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err.to_string(), err.exit_code()),
    }
}

fn finish_serve(result: Result<(), ServeError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err.to_string(), 1),
    }
}
