//! The page a person opens from a data-transfer `url` (`/authorize/{token}`, or `/en/…`, `/es/…`):
//!
//! 1. they enter the e-mail address of their earlier verification; if it belongs to an Approved
//!    session of the same environment, a 6-digit code is mailed to it, off the request path (the
//!    page answers the same, as fast, either way, so it does not tell whether an address was
//!    verified here). Requests are limited per address and per client IP, and wrong guesses per
//!    address across all transfers lock the address out of codes for a day
//!    (`verity_store` budgets, shared by every process);
//! 2. they enter the code; a right one binds the verification to this browser (an HttpOnly,
//!    SameSite=Strict cookie whose digest is stored) — the business, which also knows the link,
//!    never sees the values or answers for the person;
//! 3. they see the requesting organization and exactly the values each requested scope would
//!    share, and consent (the data is frozen and the pictures copied for the business) or refuse
//!    (nothing is shared).
//!
//! Every step is a plain form (POST, then 303 to the page); the script only adds comfort.

use super::{escape, form_field, form_fields, message_page, notice, qr_svg, Framing, Lang, Page};
use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::ratelimit::spend_budgets;
use crate::routes::data_transfer::picture_url;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::Value;
use std::collections::HashMap;
use verity_domain::account::Email;
use verity_domain::data_transfer::{IdentityValues, OneTimeCode, Scope, Transfer};
use verity_domain::Timestamp;
use verity_store::credentials::random_secret;
use verity_store::{Budget, CodeCheck, TransferAnswer, TransferCodeIssue, VerifiedIdentity};

/// Ownership-code requests per address (across all transfers) and per client IP, per hour,
/// counted in the database so every process shares them.
const CODES_PER_ADDRESS: Budget = Budget {
    scope: "transfer-code-address",
    limit: 5,
    window_seconds: 3600,
};
const CODES_PER_IP: Budget = Budget {
    scope: "transfer-code-ip",
    limit: 30,
    window_seconds: 3600,
};

/// The language a path prefix chose (`None` without one).
#[derive(Debug, Clone, Copy)]
struct Explicit(Option<Lang>);

/// The page's routes, without and with a language prefix.
pub fn routes() -> Router<AppState> {
    let page = Router::new()
        .route("/", get(show))
        .route("/email", post(request_code))
        .route("/code", post(check_code))
        .route("/answer", post(answer))
        .route("/picture/{name}", get(picture));
    let mut router = Router::new();
    for explicit in [None, Some(Lang::En), Some(Lang::Es)] {
        router = router.nest(
            &format!("{}/authorize/{{token}}", Lang::prefix(explicit)),
            page.clone().layer(Extension(Explicit(explicit))),
        );
    }
    router
}

/// What the page needs about the transfer a link names.
struct Ctx {
    state: AppState,
    lang: Lang,
    explicit: Option<Lang>,
    transfer: Transfer,
    organization: String,
    /// The browser secret, when this browser proved ownership of this transfer.
    proven_secret: Option<String>,
}

/// Either the context or the page to answer instead (unknown link, server error).
async fn context(
    state: AppState,
    explicit: Option<Lang>,
    token: &str,
    headers: &HeaderMap,
) -> Result<Ctx, Response> {
    let lang = explicit.unwrap_or_else(|| Lang::negotiate(headers));
    let failed = |error: verity_store::Error| ApiError::from(error).into_response();
    let Some(transfer) = state.store.transfer_by_token(token).await.map_err(failed)? else {
        return Err(message_page(
            lang,
            &lang.t("dt.not_found_title"),
            "error",
            &lang.t("dt.not_found"),
            StatusCode::NOT_FOUND,
            Framing::Deny,
        ));
    };
    let app = state
        .store
        .application(transfer.application_id)
        .await
        .map_err(failed)?;
    let organization = state
        .store
        .organization(app.organization_id)
        .await
        .map_err(failed)?
        .name;
    let presented = cookie(headers, &cookie_name(&transfer));
    let proven_secret = match presented {
        Some(secret) if transfer.source_session_id.is_some() => state
            .store
            .transfer_browser_matches(transfer.id, &secret)
            .await
            .map_err(failed)?
            .then_some(secret),
        _ => None,
    };
    Ok(Ctx {
        state,
        lang,
        explicit,
        transfer,
        organization,
        proven_secret,
    })
}

fn cookie_name(transfer: &Transfer) -> String {
    format!("vt_{}", transfer.token.as_str())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

impl Ctx {
    fn page_path(&self) -> String {
        format!(
            "{}/authorize/{}",
            Lang::prefix(self.explicit),
            self.transfer.token.as_str()
        )
    }

    fn org(&self) -> [(&str, &str); 1] {
        [("organization", self.organization.as_str())]
    }

    fn see_page(&self) -> Response {
        Redirect::to(&self.page_path()).into_response()
    }

    /// The page around one step: heading, who asks, the step's markup, and the QR code of this
    /// page for desktop screens.
    fn step_page(&self, step: String, status: StatusCode) -> Response {
        let lang = self.lang;
        let main = format!(
            "<h1>{title}</h1>\n<p class=\"requester\">{requester}</p>\n{step}",
            title = escape(&lang.t("dt.title")),
            requester = escape(&lang.fill("dt.requester", &self.org())),
        );
        let link = format!("{}{}", self.state.public_url(), self.page_path());
        let aside = format!(
            "<h2>{}</h2>\n<p>{}</p>\n<div class=\"qr\">{}</div>",
            escape(&lang.t("dt.qr_title")),
            escape(&lang.t("dt.qr_text")),
            qr_svg(&link, &lang.t("dt.qr_title")),
        );
        Page {
            lang,
            title: lang.t("dt.title"),
            main,
            aside: Some(aside),
            scripts: vec!["data-transfer.js"],
            status,
            framing: Framing::Deny,
            brand: None,
            branding: None,
        }
        .into_response()
    }

    fn final_page(&self, key: &str, tone: &str, status: StatusCode) -> Response {
        message_page(
            self.lang,
            &self.lang.t("dt.title"),
            tone,
            &self.lang.fill(key, &self.org()),
            status,
            Framing::Deny,
        )
    }

    fn email_step(&self, error: Option<&str>, value: &str, status: StatusCode) -> Response {
        let lang = self.lang;
        let invalid = error.is_some();
        let step = format!(
            "<p class=\"step\">{heading}</p>\n{error}<p id=\"email-help\">{intro}</p>\n\
             <form method=\"post\" action=\"{action}\" novalidate>\n\
             <label for=\"email\">{label}</label>\n\
             <input id=\"email\" name=\"email\" type=\"email\" inputmode=\"email\" autocomplete=\"email\" \
             required autofocus aria-describedby=\"email-help\" aria-invalid=\"{invalid}\" value=\"{value}\">\n\
             <button type=\"submit\">{submit}</button>\n</form>",
            heading = escape(&lang.t("dt.step_email")),
            error = notice(error, "error"),
            intro = escape(&lang.t("dt.email_intro")),
            action = escape(&format!("{}/email", self.page_path())),
            label = escape(&lang.t("dt.email_label")),
            value = escape(value),
            submit = escape(&lang.t("dt.email_submit")),
        );
        self.step_page(step, status)
    }

    /// The e-mail step refusing another code for now (429 with `Retry-After`).
    fn too_many(&self, typed: &str, retry_after_seconds: u64) -> Response {
        let mut response = self.email_step(
            Some(&self.lang.t("dt.too_many")),
            typed,
            StatusCode::TOO_MANY_REQUESTS,
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(retry_after_seconds.max(1)),
        );
        response
    }

    fn code_step(&self, error: Option<&str>, status: StatusCode) -> Response {
        let lang = self.lang;
        let minutes = minutes(self.state.config.accounts.code_ttl_seconds);
        let sent = lang.fill("dt.code_sent", &[("minutes", &minutes)]);
        let step = format!(
            "<p class=\"step\">{heading}</p>\n{error}{sent}\
             <form method=\"post\" action=\"{action}\" novalidate>\n\
             <label for=\"code\">{label}</label>\n\
             <input id=\"code\" class=\"code\" name=\"code\" type=\"text\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" pattern=\"[0-9]{{6}}\" maxlength=\"12\" required autofocus \
             aria-invalid=\"{invalid}\">\n\
             <button type=\"submit\">{submit}</button>\n</form>\n\
             <p class=\"note\"><a href=\"{other}\">{other_text}</a></p>",
            heading = escape(&lang.t("dt.step_code")),
            error = notice(error, "error"),
            sent = notice(Some(&sent), "info"),
            action = escape(&format!("{}/code", self.page_path())),
            label = escape(&lang.t("dt.code_label")),
            invalid = error.is_some(),
            submit = escape(&lang.t("dt.code_submit")),
            other = escape(&format!("{}?step=email", self.page_path())),
            other_text = escape(&lang.t("dt.code_other_email")),
        );
        self.step_page(step, status)
    }

    fn review_step(&self, identity: &VerifiedIdentity, error: Option<&str>) -> Response {
        let lang = self.lang;
        let values = IdentityValues::from_session(
            &identity.session,
            &identity.results,
            identity.pictures.clone(),
        );
        let mut items = String::new();
        for scope in self.transfer.scopes.iter() {
            let body = if scope == Scope::Pictures {
                self.pictures_markup(&values)
            } else {
                fields_markup(lang, scope, values.scope(scope))
            };
            items.push_str(&format!(
                "<li><h2>{}</h2>{body}</li>\n",
                escape(&lang.t(&format!("scope.{}", scope.as_str())))
            ));
        }
        let step = format!(
            "<p class=\"step\">{heading}</p>\n{error}<p>{intro}</p>\n<ul class=\"scopes\">\n{items}</ul>\n\
             <form method=\"post\" action=\"{action}\">\n<div class=\"actions\">\n\
             <button type=\"submit\" name=\"answer\" value=\"refuse\" class=\"secondary\">{refuse}</button>\n\
             <button type=\"submit\" name=\"answer\" value=\"consent\">{consent}</button>\n\
             </div>\n</form>\n<p class=\"note\">{note}</p>",
            heading = escape(&lang.t("dt.step_review")),
            error = notice(error, "error"),
            intro = escape(&lang.fill("dt.review_intro", &self.org())),
            action = escape(&format!("{}/answer", self.page_path())),
            refuse = escape(&lang.t("dt.refuse")),
            consent = escape(&lang.t("dt.consent")),
            note = escape(&lang.t("dt.consent_note")),
        );
        self.step_page(step, StatusCode::OK)
    }

    fn pictures_markup(&self, values: &IdentityValues) -> String {
        if values.pictures.is_empty() {
            return format!(
                "<p class=\"missing\">{}</p>",
                escape(&self.lang.t("dt.not_available"))
            );
        }
        let figures: String = values
            .pictures
            .iter()
            .map(|p| {
                let key = format!("picture.{}", p.name);
                let caption = if self.lang.has(&key) {
                    self.lang.t(&key)
                } else {
                    self.lang.t("picture.other")
                };
                format!(
                    "<figure><img src=\"{src}\" alt=\"{caption}\"><figcaption>{caption}</figcaption></figure>",
                    src = escape(&format!("{}/picture/{}", self.page_path(), p.name)),
                    caption = escape(&caption),
                )
            })
            .collect();
        format!("<div class=\"pictures\">{figures}</div>")
    }

    /// The verified identity this browser proved to own, if it still is one.
    async fn proven_identity(&self) -> Result<Option<VerifiedIdentity>, Response> {
        let Some(source) = self.transfer.source_session_id else {
            return Ok(None);
        };
        let app = self
            .state
            .store
            .application(self.transfer.application_id)
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        self.state
            .store
            .verified_identity(source, &app, &self.state.config.trusted_issuers)
            .await
            .map_err(|e| ApiError::from(e).into_response())
    }
}

fn minutes(seconds: i64) -> String {
    ((seconds + 59) / 60).max(1).to_string()
}

/// One scope's values as a definition list in the scope's field order; `is_verified` becomes a
/// badge on the value. A scope the identity holds nothing for reads "Not available" once.
fn fields_markup(lang: Lang, scope: Scope, fields: &serde_json::Map<String, Value>) -> String {
    let missing = || {
        format!(
            "<p class=\"missing\">{}</p>",
            escape(&lang.t("dt.not_available"))
        )
    };
    let verified = fields.get("is_verified") == Some(&Value::Bool(true));
    let shown: Vec<(&str, Option<String>)> = scope
        .fields()
        .iter()
        .map(|name| (*name, fields.get(*name).and_then(display_value)))
        .collect();
    if shown.iter().all(|(_, text)| text.is_none()) {
        return missing();
    }
    let single = shown.len() == 1;
    let mut rows = String::new();
    for (name, text) in shown {
        let value = match text {
            Some(text) if verified => format!(
                "{} <span class=\"badge\">{}</span>",
                escape(&text),
                escape(&lang.t("dt.verified"))
            ),
            Some(text) => escape(&text),
            None => format!(
                "<span class=\"missing\">{}</span>",
                escape(&lang.t("dt.not_available"))
            ),
        };
        // A scope of one field needs no label under its heading.
        if single {
            return format!("<p class=\"value\">{value}</p>");
        }
        rows.push_str(&format!(
            "<dt>{}</dt><dd>{value}</dd>",
            escape(&lang.t(&format!("field.{name}")))
        ));
    }
    format!("<dl>{rows}</dl>")
}

/// Text for a value: strings as they are, numbers, objects as their non-empty parts.
fn display_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(display_value).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .values()
                .filter(|v| !v.is_object())
                .filter_map(display_value)
                .collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
    }
}

/// The final page of an answered or expired transfer, or `None` while it is open.
fn closed_page(ctx: &Ctx) -> Option<Response> {
    use verity_domain::data_transfer::TransferStatus::*;
    match ctx.transfer.status_at(Timestamp::now()) {
        Confirmed => Some(ctx.final_page("dt.done_confirmed", "ok", StatusCode::OK)),
        Declined => Some(ctx.final_page("dt.done_declined", "info", StatusCode::OK)),
        Expired => Some(ctx.final_page("dt.expired", "error", StatusCode::GONE)),
        Pending | InProgress => None,
    }
}

/// The context of a form post (`…/authorize/{token}/…`): only an open transfer takes answers;
/// a closed one sends the browser back to its final page.
struct OpenPage(Ctx);

impl FromRequestParts<AppState> for OpenPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Path(token) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let explicit = parts.extensions.get::<Explicit>().and_then(|e| e.0);
        let ctx = context(state.clone(), explicit, &token, &parts.headers).await?;
        if closed_page(&ctx).is_some() {
            return Err(ctx.see_page());
        }
        Ok(OpenPage(ctx))
    }
}

async fn show(
    State(state): State<AppState>,
    Extension(Explicit(explicit)): Extension<Explicit>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let step = query.get("step").map(String::as_str);
    let ctx = match context(state, explicit, &token, &headers).await {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    if let Some(page) = closed_page(&ctx) {
        return page;
    }
    if ctx.proven_secret.is_some() {
        return match ctx.proven_identity().await {
            Ok(Some(identity)) => ctx.review_step(&identity, None),
            Ok(None) => ctx.final_page("dt.source_gone", "error", StatusCode::CONFLICT),
            Err(page) => page,
        };
    }
    if ctx.state.mailer.is_none() {
        return ctx.final_page("dt.mail_disabled", "error", StatusCode::SERVICE_UNAVAILABLE);
    }
    let outstanding = ctx
        .state
        .store
        .outstanding_transfer_code(ctx.transfer.id, Timestamp::now())
        .await;
    match outstanding {
        Ok(Some(_)) if step != Some("email") => ctx.code_step(None, StatusCode::OK),
        Ok(_) => ctx.email_step(None, "", StatusCode::OK),
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn request_code(OpenPage(ctx): OpenPage, ClientIp(ip): ClientIp, body: Bytes) -> Response {
    let lang = ctx.lang;
    let Some(mailer) = ctx.state.mailer.clone() else {
        return ctx.final_page("dt.mail_disabled", "error", StatusCode::SERVICE_UNAVAILABLE);
    };
    let fields = form_fields(&body);
    let typed = form_field(&fields, "email").unwrap_or("").trim().to_owned();
    let Ok(email) = Email::parse(&typed) else {
        return ctx.email_step(
            Some(&lang.t("dt.email_invalid")),
            &typed,
            StatusCode::BAD_REQUEST,
        );
    };
    let budgets = [
        (CODES_PER_IP, ip.to_string()),
        (CODES_PER_ADDRESS, email.as_str().to_owned()),
    ];
    let budgets = budgets
        .each_ref()
        .map(|(budget, key)| (*budget, key.as_str()));
    match spend_budgets(&ctx.state.store, &budgets).await {
        Ok(()) => {}
        Err(ApiError::RateLimited {
            retry_after_seconds,
            ..
        }) => return ctx.too_many(&typed, retry_after_seconds),
        Err(error) => return error.into_response(),
    }
    let store = &ctx.state.store;
    let app = match store.application(ctx.transfer.application_id).await {
        Ok(app) => app,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let candidate = match store
        .approved_session_for_email(&email, &app, &ctx.state.config.trusted_issuers)
        .await
    {
        Ok(candidate) => candidate,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let code = OneTimeCode::generate();
    let policy = &ctx.state.config.accounts;
    let now = Timestamp::now();
    match store
        .issue_transfer_code(&ctx.transfer, &email, candidate, &code, policy, now)
        .await
    {
        Ok(TransferCodeIssue::Issued) => {}
        Ok(TransferCodeIssue::CoolingDown {
            retry_after_seconds,
        }) => {
            let wait = retry_after_seconds.max(1);
            let mut response = ctx.email_step(
                Some(&lang.fill("dt.cooldown", &[("seconds", &wait.to_string())])),
                &typed,
                StatusCode::TOO_MANY_REQUESTS,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return response;
        }
        Ok(TransferCodeIssue::LockedOut(exhausted)) => {
            return ctx.too_many(&typed, exhausted.retry_after_seconds(now) as u64)
        }
        Err(error) => return ApiError::from(error).into_response(),
    }
    // Only an address of a verified identity receives mail, and it is sent off the request
    // path: the answer and its timing are the same either way, so they do not tell whether an
    // address passed a verification on this server.
    if candidate.is_some() {
        let minutes = minutes(policy.code_ttl_seconds);
        let body = lang.fill(
            "dt.mail_body",
            &[
                ("code", &code),
                ("organization", &ctx.organization),
                ("minutes", &minutes),
            ],
        );
        let subject = lang.t("dt.mail_subject");
        let (store, transfer_id) = (store.clone(), ctx.transfer.id);
        tokio::spawn(async move {
            if mailer
                .send_transfer_code(&email, &subject, body)
                .await
                .is_err()
            {
                // The mailer logged why; a withdrawn code does not hold the cooldown against
                // a retry.
                if let Err(error) = store.discard_transfer_code(transfer_id, &code).await {
                    tracing::warn!(error = %error, "could not withdraw an unsent ownership code");
                }
            }
        });
    }
    ctx.see_page()
}

async fn check_code(OpenPage(ctx): OpenPage, body: Bytes) -> Response {
    let lang = ctx.lang;
    let fields = form_fields(&body);
    let Some(code) = OneTimeCode::normalize(form_field(&fields, "code").unwrap_or("")) else {
        return ctx.code_step(Some(&lang.t("dt.code_malformed")), StatusCode::BAD_REQUEST);
    };
    let secret = random_secret();
    let now = Timestamp::now();
    let checked = ctx
        .state
        .store
        .verify_transfer_code(&ctx.transfer, &code, &secret, now)
        .await;
    match checked {
        Ok(CodeCheck::Proven) => {
            let mut response = ctx.see_page();
            let max_age = (ctx.transfer.expires_at.micros() - now.micros()).max(0) / 1_000_000;
            let secure = if ctx.state.public_url().starts_with("https://") {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{}={secret}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}",
                cookie_name(&ctx.transfer)
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(CodeCheck::Invalid) => {
            ctx.code_step(Some(&lang.t("dt.code_invalid")), StatusCode::BAD_REQUEST)
        }
        Ok(CodeCheck::Expired) => {
            ctx.code_step(Some(&lang.t("dt.code_expired")), StatusCode::BAD_REQUEST)
        }
        Ok(CodeCheck::LockedOut(exhausted)) => {
            let mut response =
                ctx.code_step(Some(&lang.t("dt.too_many")), StatusCode::TOO_MANY_REQUESTS);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(exhausted.retry_after_seconds(now)),
            );
            response
        }
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn answer(OpenPage(ctx): OpenPage, body: Bytes) -> Response {
    let Some(secret) = ctx.proven_secret.clone() else {
        return ctx.final_page("dt.answer_failed", "error", StatusCode::FORBIDDEN);
    };
    let identity = match ctx.proven_identity().await {
        Ok(Some(identity)) => identity,
        Ok(None) => return ctx.final_page("dt.source_gone", "error", StatusCode::CONFLICT),
        Err(page) => return page,
    };
    let fields = form_fields(&body);
    let transfer = &ctx.transfer;
    let answer = match form_field(&fields, "answer") {
        Some("consent") => {
            let values = IdentityValues::from_session(
                &identity.session,
                &identity.results,
                identity.pictures,
            );
            let base = ctx.state.public_url().to_owned();
            let shared = values.shared(&transfer.scopes, |name| {
                picture_url(&base, transfer.id, name)
            });
            let pictures = if transfer.scopes.contains(Scope::Pictures) {
                values.pictures
            } else {
                Vec::new()
            };
            TransferAnswer::Consent { shared, pictures }
        }
        Some("refuse") => TransferAnswer::Refuse,
        _ => {
            return ctx.final_page("dt.answer_failed", "error", StatusCode::BAD_REQUEST);
        }
    };
    match ctx
        .state
        .store
        .answer_transfer(transfer, &secret, answer, Timestamp::now())
        .await
    {
        Ok(true) => ctx.see_page(),
        Ok(false) => ctx.final_page("dt.answer_failed", "error", StatusCode::CONFLICT),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// A picture the person is about to share, shown only to the browser that proved ownership.
async fn picture(
    State(state): State<AppState>,
    Path((token, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "Not found.").into_response();
    let ctx = match context(state, None, &token, &headers).await {
        Ok(ctx) => ctx,
        Err(_) => return not_found(),
    };
    if ctx.proven_secret.is_none()
        || closed_page(&ctx).is_some()
        || !ctx.transfer.scopes.contains(Scope::Pictures)
    {
        return not_found();
    }
    let identity = match ctx.proven_identity().await {
        Ok(Some(identity)) => identity,
        _ => return not_found(),
    };
    let Some(picture) = identity.pictures.iter().find(|p| p.name == name) else {
        return not_found();
    };
    match ctx.state.store.media.get(&picture.object_key).await {
        Ok(Some(bytes)) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&picture.content_type) {
                headers.insert(header::CONTENT_TYPE, value);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        _ => not_found(),
    }
}
