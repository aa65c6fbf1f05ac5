//! OAuth2 client credentials (seeds 000/001), introspection and the JWKS.

use crate::helpers::spawn_app;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn client_credentials_issue_a_signed_token_with_exactly_the_seed_fields() {
    let app = spawn_app().await;
    for path in ["/auth/v2/token/", "/auth/v2/token"] {
        let response = app
            .client
            .post(format!("{}{path}", app.base))
            .basic_auth(&app.live.client_id, Some(&app.live.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "access_token",
                "client_id",
                "exp",
                "expires_in",
                "iat",
                "iss",
                "organization_id",
                "sub"
            ]
        );
        assert_eq!(body["sub"], app.live.id.to_string());
        assert_eq!(body["client_id"], app.live.client_id);
        assert_eq!(body["expires_in"], 86400);
        assert_eq!(
            body["exp"].as_i64().unwrap() - body["iat"].as_i64().unwrap(),
            86400
        );

        // The token is an ES256 JWT whose key id is published in the JWKS.
        let token = body["access_token"].as_str().unwrap();
        let header: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "ES256");
        let (status, jwks) = app
            .request(reqwest::Method::GET, "/auth/config/jwks/", None, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
        assert_eq!(jwks["keys"][0]["crv"], "P-256");
    }
}

#[tokio::test]
async fn bad_credentials_and_grants_follow_the_seed_error_table() {
    let app = spawn_app().await;
    let url = format!("{}/auth/v2/token/", app.base);
    let form = [("grant_type", "client_credentials")];
    let cases = [
        (None, "Invalid authorization header"),
        (Some("Basic !!!not-base64"), "Invalid authorization header"),
        (Some("Bearer something"), "Invalid authorization header"),
    ];
    for (header, detail) in cases {
        let mut request = app.client.post(&url).form(&form);
        if let Some(header) = header {
            request = request.header("authorization", header);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"detail": detail})
        );
    }
    let wrong = app
        .client
        .post(&url)
        .basic_auth(&app.live.client_id, Some("wrong-secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({"detail": "Invalid client credentials"})
    );

    let creds = |request: reqwest::RequestBuilder| {
        request.basic_auth(&app.live.client_id, Some(&app.live.client_secret))
    };
    let missing = creds(app.client.post(&url)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let unsupported = creds(app.client.post(&url))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
    assert!(unsupported.json::<Value>().await.unwrap()["detail"]
        .as_str()
        .unwrap()
        .contains("grant_type"));
}

#[tokio::test]
async fn introspection_answers_per_rfc_7662_and_only_for_the_callers_tokens() {
    let app = spawn_app().await;
    let token = app.client_token(&app.live).await;
    let introspect = |creds: &crate::helpers::AppCreds, token: &str| {
        app.client
            .post(format!("{}/auth/v2/introspect/", app.base))
            .basic_auth(creds.client_id.clone(), Some(creds.client_secret.clone()))
            .form(&[("token", token.to_owned())])
            .send()
    };
    let body: Value = introspect(&app.live, &token)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], app.live.id.to_string());
    assert_eq!(body["token_type"], "Bearer");
    let body: Value = introspect(&app.sandbox, &token)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"active": false}),
        "another application's token is not active for it"
    );
    let body: Value = introspect(&app.live, "garbage")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!({"active": false}));
}
