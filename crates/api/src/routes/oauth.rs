//! OAuth2 client credentials (seeds 000/001), RFC 7662 introspection and the JWKS.

use super::no_store;
use crate::error::ApiError;
use crate::oauth::TokenUse;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};
use verity_domain::Error as DomainError;
use verity_store::Application;

/// Parses `Authorization: Basic base64(client_id:client_secret)`.
fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), ApiError> {
    const INVALID: ApiError = ApiError::InvalidClient("Invalid authorization header");
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(INVALID)?;
    let encoded = value.strip_prefix("Basic ").ok_or(INVALID)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| INVALID)?;
    let text = String::from_utf8(decoded).map_err(|_| INVALID)?;
    let (id, secret) = text.split_once(':').ok_or(INVALID)?;
    if id.is_empty() || secret.is_empty() {
        return Err(INVALID);
    }
    Ok((id.to_owned(), secret.to_owned()))
}

/// Form fields of an OAuth request (JSON bodies are accepted too, as lenient servers do).
fn form_fields(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return serde_json::from_slice::<serde_json::Map<String, Value>>(body)
            .map(|object| {
                object
                    .into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
    }
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn authenticated_client(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Application, ApiError> {
    let (client_id, secret) = basic_credentials(headers)?;
    state
        .authenticate_client(&client_id, &secret)
        .await?
        .ok_or(ApiError::InvalidClient("Invalid client credentials"))
}

#[utoipa::path(post, path = "/auth/v2/token/", tag = "auth",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "grant_type=client_credentials"),
    responses((status = 200, description = "iss, iat, sub, client_id, organization_id, expires_in, exp, access_token", body = Value),
              (status = 400, description = "Missing or unsupported grant_type", body = Value),
              (status = 401, description = "Bad or badly encoded client credentials", body = Value)))]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app = authenticated_client(&state, &headers).await?;
    let fields = form_fields(&headers, &body);
    match fields
        .iter()
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.as_str())
    {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(DomainError::Rule(
                "Unsupported grant_type: only client_credentials is supported.".into(),
            )
            .into())
        }
        None => return Err(DomainError::Rule("Missing grant_type parameter.".into()).into()),
    }
    let answer = state.tokens.issue(&app)?;
    Ok(no_store((StatusCode::OK, Json(answer)).into_response()))
}

#[utoipa::path(post, path = "/auth/v2/introspect/", tag = "auth",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "token=…"),
    responses((status = 200, description = "RFC 7662: {active, …}; tokens of other applications are inactive", body = Value),
              (status = 401, description = "Bad client credentials", body = Value)))]
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let app = authenticated_client(&state, &headers).await?;
    let fields = form_fields(&headers, &body);
    let token = fields
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.as_str());
    let Some(token) = token else {
        return Err(DomainError::Rule("Missing token parameter.".into()).into());
    };
    let answer = match state.tokens.verify(token, TokenUse::Client) {
        Some(claims) if claims.sub == app.id.to_string() => json!({
            "active": true,
            "token_type": "Bearer",
            "client_id": claims.client_id,
            "sub": claims.sub,
            "iss": claims.iss,
            "iat": claims.iat,
            "exp": claims.exp,
            "jti": claims.jti,
            "organization_id": claims.organization_id,
        }),
        _ => json!({"active": false}),
    };
    Ok(no_store((StatusCode::OK, Json(answer)).into_response()))
}

#[utoipa::path(get, path = "/auth/config/jwks/", tag = "auth",
    responses((status = 200, description = "The public key(s) access tokens are signed with", body = Value)))]
pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.tokens.jwks())
}
