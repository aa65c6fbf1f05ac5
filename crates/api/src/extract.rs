//! Request extractors. [`Tenant`] is how handlers learn who is calling: it authenticates the API
//! key, applies the rate limits, and hands over the caller's application, by which every store
//! lookup is scoped. [`BearerTenant`] does the same from an OAuth client token, [`ConsoleUser`]
//! for a console user's token (scoped by organization). [`JsonObject`] reads a JSON body with
//! DRF-shaped errors; [`FormBody`] a JSON or `multipart/form-data` body (text fields and files).

use crate::error::{coded, ApiError};
use crate::oauth::{Claims, TokenUse};
use crate::ratelimit::Scope;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use ipnet::IpNet;
use serde_json::{Map, Value};
use std::net::{IpAddr, SocketAddr};
use verity_domain::capture::{check_upload, CheckedCapture, IMAGE_MAX_BYTES, IMAGE_TYPES};
use verity_domain::fields::FieldErrors;
use verity_domain::ids::ApiKeyId;
use verity_store::{Application, User};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub key_id: ApiKeyId,
    pub app: Application,
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get("x-api-key")
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .ok_or(ApiError::NotAuthenticated)?;
        let auth = state
            .authenticate(key)
            .await?
            .ok_or(ApiError::AuthenticationFailed)?;
        state.limiter.check(
            auth.key_id.0,
            &Scope::for_request(&parts.method, &route(parts)),
        )?;
        Ok(Tenant {
            key_id: auth.key_id,
            app: auth.application,
        })
    }
}

/// The route template the request matched (rate-limit scopes are per template).
fn route(parts: &Parts) -> String {
    parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned())
}

/// The claims of the request's `Authorization: Bearer` token of the given kind: 403 without the
/// header, 401 for anything that is not such a token of ours.
fn bearer_claims(parts: &Parts, state: &AppState, kind: TokenUse) -> Result<Claims, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or(ApiError::NotAuthenticated)?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .ok_or(ApiError::InvalidToken)?;
    state
        .tokens
        .verify(token.trim(), kind)
        .ok_or(ApiError::InvalidToken)
}

/// The caller of the v1 API, authenticated by an OAuth client access token (`Authorization:
/// Bearer …`). Tokens name their application; the application must still exist.
#[derive(Debug, Clone)]
pub struct BearerTenant(pub Tenant);

impl FromRequestParts<AppState> for BearerTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let claims = bearer_claims(parts, state, TokenUse::Client)?;
        let app_id = claims.application_id().ok_or(ApiError::InvalidToken)?;
        let app = match state.store.application(app_id).await {
            Ok(app) if claims.client_id.as_deref() == Some(app.client_id.as_str()) => app,
            Ok(_) | Err(verity_store::Error::Domain(verity_domain::Error::NotFound)) => {
                return Err(ApiError::InvalidToken)
            }
            Err(other) => return Err(other.into()),
        };
        state
            .limiter
            .check(app.id.0, &Scope::for_request(&parts.method, &route(parts)))?;
        Ok(BearerTenant(Tenant {
            key_id: ApiKeyId(app.id.0),
            app,
        }))
    }
}

/// The caller of the data-transfer API (spec §2.12 rows 8–10): an OAuth client token as seed 004
/// sends it (`Authorization: Bearer …`), or else an API key (`x-api-key`), as Didit's demo
/// application sends it.
#[derive(Debug, Clone)]
pub struct ClientTenant(pub Tenant);

impl FromRequestParts<AppState> for ClientTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            let BearerTenant(tenant) = BearerTenant::from_request_parts(parts, state).await?;
            return Ok(ClientTenant(tenant));
        }
        Ok(ClientTenant(
            Tenant::from_request_parts(parts, state).await?,
        ))
    }
}

/// A console user, authenticated by a user access token (`Authorization: Bearer …`, spec
/// Appendix A). API keys and client tokens are refused. The account must still exist and belong
/// to the organization the token names; handlers scope every lookup by `organization_id`.
#[derive(Debug, Clone)]
pub struct ConsoleUser(pub User);

impl FromRequestParts<AppState> for ConsoleUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let claims = bearer_claims(parts, state, TokenUse::User)?;
        let user_id = claims.user_id().ok_or(ApiError::InvalidToken)?;
        let user = state
            .store
            .console_user(user_id)
            .await?
            .filter(|user| user.organization_id.to_string() == claims.organization_id)
            .ok_or(ApiError::InvalidToken)?;
        state
            .limiter
            .check(user.id.0, &Scope::for_request(&parts.method, &route(parts)))?;
        Ok(ConsoleUser(user))
    }
}

/// The reverse proxies whose `X-Forwarded-For` header is believed (`http.trusted_proxies`): IPs
/// and CIDRs. Empty by default, and then the header is ignored: anyone can write it.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// IPs or CIDRs; the first entry that is neither is the error.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is neither an IP address nor a CIDR"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client of a request that came from `peer` with these `X-Forwarded-For` hops (in
    /// header order): walking from the peer towards the origin, the first address that is not a
    /// trusted proxy. Hops left of it were written by the client and prove nothing. A hop that
    /// is not an address stops the walk at the last trusted proxy.
    pub fn client<'a>(&self, peer: IpAddr, forwarded_for: impl Iterator<Item = &'a str>) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = forwarded_for.flat_map(|value| value.split(',')).collect();
        for hop in hops.into_iter().rev() {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
}

/// The address of the client: the TCP peer, or, when the peer is a trusted reverse proxy
/// ([`TrustedProxies`]), the client its `X-Forwarded-For` names.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip())
            .ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!(
                    "the server was started without connection info"
                ))
            })?;
        let forwarded_for = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        Ok(ClientIp(
            state.config.trusted_proxies.client(peer, forwarded_for),
        ))
    }
}

/// A JSON object body. An empty body counts as `{}` (DRF does the same), so required-field
/// errors rather than parse errors tell the caller what is missing.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let limit = request
            .extensions()
            .get::<BodyLimit>()
            .map_or(usize::MAX, |l| l.0);
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge { limit }
                } else {
                    ApiError::MalformedJson(rejection.body_text())
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonObject(Map::new()));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(object)) => Ok(JsonObject(object)),
            Ok(other) => Err(FieldErrors::single(
                "non_field_errors",
                format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    json_type(&other)
                ),
            )
            .into()),
            Err(error) => Err(ApiError::MalformedJson(error.to_string())),
        }
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Longest accepted text part of a multipart body (flags, actions, vendor data, metadata).
const TEXT_PART_MAX_BYTES: usize = 64 * 1024;

/// A body that is either JSON (an object) or `multipart/form-data`: text parts become string
/// fields, parts with a file name (or any non-text content type) become files. Over the route's
/// body limit → 413; a malformed multipart body → 400 `{"detail": "Multipart form parse error - …"}`
/// as DRF words it; a text part over 64 KiB → a field error.
pub struct FormBody {
    pub fields: Map<String, Value>,
    pub files: Vec<(String, Bytes)>,
}

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let multipart = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("multipart/form-data"));
        if !multipart {
            let JsonObject(fields) = JsonObject::from_request(request, state).await?;
            return Ok(FormBody {
                fields,
                files: Vec::new(),
            });
        }
        let limit = request
            .extensions()
            .get::<BodyLimit>()
            .map_or(usize::MAX, |l| l.0);
        let refusal = |status: StatusCode, text: String| {
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge { limit }
            } else {
                ApiError::Domain(verity_domain::Error::Rule(format!(
                    "Multipart form parse error - {text}"
                )))
            }
        };
        let mut form = axum::extract::Multipart::from_request(request, state)
            .await
            .map_err(|rejection| refusal(rejection.status(), rejection.body_text()))?;
        let mut body = FormBody {
            fields: Map::new(),
            files: Vec::new(),
        };
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|error| refusal(error.status(), error.body_text()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let is_file = field.file_name().is_some()
                || field
                    .content_type()
                    .is_some_and(|t| !t.starts_with("text/plain"));
            let bytes = field
                .bytes()
                .await
                .map_err(|error| refusal(error.status(), error.body_text()))?;
            if is_file {
                body.files.push((name, bytes));
                continue;
            }
            if bytes.len() > TEXT_PART_MAX_BYTES {
                return Err(FieldErrors::single(
                    &name,
                    format!("Ensure this field has no more than {TEXT_PART_MAX_BYTES} characters."),
                )
                .into());
            }
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| FieldErrors::single(&name, "Text fields must be UTF-8."))?;
            body.fields.insert(name, Value::String(text));
        }
        Ok(body)
    }
}

impl FormBody {
    /// A text field, trimmed (a JSON number or boolean as its text); empty counts as absent.
    pub fn text(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .and_then(value_text)
            .filter(|text| !text.is_empty())
    }

    /// Takes the image part `name` through the upload checks ([`check_upload`]: JPEG, PNG or
    /// WebP by magic bytes, pixel dimensions from the header before any decoding, metadata
    /// removed). Over 5 MB or over the pixel limits is the whole request's 413; any other refusal
    /// is a field error on `name`, as DRF reports an invalid image, and so is a required image
    /// that was not sent.
    pub fn take_image(
        &mut self,
        name: &str,
        required: bool,
        errors: &mut FieldErrors,
    ) -> Result<Option<CheckedCapture>, ApiError> {
        let Some(index) = self.files.iter().position(|(part, _)| part == name) else {
            if self.fields.contains_key(name) {
                errors.add(
                    name,
                    "Send the image as a file part of a multipart/form-data body.",
                );
            } else if required {
                errors.add(name, "This field is required.");
            }
            return Ok(None);
        };
        // `remove`, not `swap_remove`: repeated parts (liveness frames) are taken in order.
        let (_, bytes) = self.files.remove(index);
        match check_upload(bytes.to_vec(), &IMAGE_TYPES, IMAGE_MAX_BYTES) {
            Ok(checked) => Ok(Some(checked)),
            Err(refusal) if refusal.status == 413 => Err(coded(
                StatusCode::PAYLOAD_TOO_LARGE,
                refusal.code,
                format!("{name}: {}", refusal.message),
            )),
            Err(refusal) => {
                errors.add(name, refusal.message);
                Ok(None)
            }
        }
    }
}

/// The text of a form value: a string trimmed, a number or boolean as written; `None` for
/// anything else (null, lists, objects).
pub fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_owned()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The configured body limit, made visible to extractors so 413 bodies can state it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Query parameters as an ordered list of pairs (repeated keys kept).
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    pub fn from_uri(uri: &axum::http::Uri) -> Self {
        QueryPairs(
            url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Ok(QueryPairs::from_uri(&parts.uri))
    }
}

/// LimitOffset pagination (spec §9.2).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    pub const DEFAULT_LIMIT: i64 = 20;
    pub const MAX_LIMIT: i64 = 200;

    /// Reads `limit` (alias `page_size`) and `offset`.
    pub fn from_query(query: &QueryPairs) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::new();
        let page = Self::read(query, &mut errors);
        Ok(errors.into_result(page)?)
    }

    /// Like [`Page::from_query`], recording problems among the caller's other field errors.
    pub fn read(query: &QueryPairs, errors: &mut FieldErrors) -> Self {
        let mut read = |key: &str, default: i64, min: i64| -> i64 {
            match query.get(key) {
                None => default,
                Some(text) => match text.parse::<i64>() {
                    Ok(n) if n >= min => n,
                    _ => {
                        errors.add(key, "A valid integer is required.");
                        default
                    }
                },
            }
        };
        let limit = match query.get("limit") {
            Some(_) => read("limit", Self::DEFAULT_LIMIT, 1),
            None => read("page_size", Self::DEFAULT_LIMIT, 1),
        };
        let offset = read("offset", 0, 0);
        Page {
            limit: limit.min(Self::MAX_LIMIT),
            offset,
        }
    }

    /// `{count, next, previous, results}` with absolute `next`/`previous` links.
    pub fn envelope(
        &self,
        count: i64,
        results: Vec<Value>,
        base: &str,
        path: &str,
        query: &QueryPairs,
    ) -> Value {
        let link = |offset: i64| {
            let mut pairs: Vec<(String, String)> = query
                .0
                .iter()
                .filter(|(k, _)| k != "offset" && k != "limit" && k != "page_size")
                .cloned()
                .collect();
            pairs.push(("limit".into(), self.limit.to_string()));
            if offset > 0 {
                pairs.push(("offset".into(), offset.to_string()));
            }
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            format!("{base}{path}?{encoded}")
        };
        let next = (self.offset + self.limit < count).then(|| link(self.offset + self.limit));
        let previous = (self.offset > 0).then(|| link((self.offset - self.limit).max(0)));
        serde_json::json!({"count": count, "next": next, "previous": previous, "results": results})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies_right_to_left() {
        let proxies = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        let client =
            |peer: &str, headers: &[&str]| proxies.client(ip(peer), headers.iter().copied());
        // An untrusted peer is the client whatever it writes.
        assert_eq!(client("203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        // Behind two trusted hops, the right-most untrusted address; what the client wrote to
        // its left (a spoofed first hop) is ignored.
        assert_eq!(
            client("127.0.0.1", &["1.2.3.4, 198.51.100.7", "10.1.2.3"]),
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last trusted proxy; no header leaves the peer.
        assert_eq!(
            client("127.0.0.1", &["198.51.100.7, junk"]),
            ip("127.0.0.1")
        );
        assert_eq!(client("127.0.0.1", &[]), ip("127.0.0.1"));
        // IPv4-mapped peers are compared as IPv4.
        assert_eq!(
            client("::ffff:127.0.0.1", &["198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert!(TrustedProxies::parse(&["proxy.internal".into()]).is_err());
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), ["198.51.100.7"].into_iter()),
            ip("127.0.0.1")
        );
    }
}
