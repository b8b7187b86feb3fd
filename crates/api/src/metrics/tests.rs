use super::*;

#[test]
fn scim_routes_map_to_resources_and_operations() {
    assert_eq!(
        scim_operation("PATCH", "/scim/v2/{workspace}/Users/{id}"),
        Some(("User", "patch"))
    );
    assert_eq!(
        scim_operation("GET", "/scim/v2/{workspace}/Groups"),
        Some(("Group", "list"))
    );
    assert_eq!(
        scim_operation("GET", "/scim/v2/{workspace}/Schemas/{id}"),
        Some(("Discovery", "read"))
    );
    assert_eq!(
        scim_operation("POST", "/scim/v2/{workspace}/Users/.search"),
        Some(("User", "search"))
    );
    assert_eq!(
        scim_operation("POST", "/scim/v2/{workspace}/Bulk"),
        Some(("Bulk", "request"))
    );
    assert_eq!(scim_operation("GET", "/api/v1/workspaces"), None);
}

#[test]
fn requests_are_counted_by_template_and_status() {
    let metrics = Metrics::new().unwrap();
    metrics.observe_request(
        &Method::GET,
        Some("/scim/v2/{workspace}/Users"),
        StatusCode::OK,
        Duration::from_millis(3),
        false,
    );
    metrics.observe_request(
        &Method::from_bytes(b"BREW").unwrap(),
        None,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_millis(3),
        true,
    );
    let state = r2d2_state();
    let text = metrics.render(state, 10).unwrap();
    assert!(text.contains(
        r#"webwork_scim_http_requests_total{method="GET",route="/scim/v2/{workspace}/Users",status="200"} 1"#
    ));
    assert!(text.contains(
        r#"webwork_scim_scim_operations_total{operation="list",outcome="success",resource="User"} 1"#
    ));
    assert!(text.contains(r#"method="other",route="unmatched",status="503""#));
    assert!(text.contains("webwork_scim_db_unavailable_total 1"));
    assert!(text.contains("webwork_scim_build_info{commit="));
    assert!(text.contains("webwork_scim_db_pool_max_connections 10"));
}

fn r2d2_state() -> r2d2::State {
    // r2d2's State has no public constructor; read one off a real, empty pool.
    #[derive(Debug)]
    struct Nothing;
    impl r2d2::ManageConnection for Nothing {
        type Connection = ();
        type Error = std::io::Error;
        fn connect(&self) -> Result<(), std::io::Error> {
            Ok(())
        }
        fn is_valid(&self, _: &mut ()) -> Result<(), std::io::Error> {
            Ok(())
        }
        fn has_broken(&self, _: &mut ()) -> bool {
            false
        }
    }
    r2d2::Pool::builder()
        .max_size(1)
        .build(Nothing)
        .unwrap()
        .state()
}
