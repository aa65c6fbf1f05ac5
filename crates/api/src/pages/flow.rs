//! The hosted verification flow: the page a session's `url` opens (`/session/{token}`, or
//! `/{language}/session/{token}` when the session was created with a `language`).
//!
//! The server renders a shell — who asks, the sandbox banner, a QR code of the same link for
//! desktops — and `assets/flow.js` runs the steps against the session-token JSON API
//! (`routes::flow`, docs/flow-api.md): start, consent, document choice, camera or file capture,
//! selfie, proof of address, submit, processing, result and the callback redirect. Unknown and
//! expired links answer a page (404 / 410), never JSON. Every string comes from the
//! translation files (`flow.*` keys are handed to the script in a JSON data block, which the
//! CSP does not execute).
//!
//! The page is embeddable (`frame-ancestors *`, camera allowed to this origin): see
//! docs/hosted-flow.md for why that is safe.

use super::{escape, message_page, qr_svg, Framing, Lang, Page};
use crate::routes::branding::BrandingUrls;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::json;
use verity_domain::session::{Environment, LANGUAGES};
use verity_domain::status::SessionStatus;
use verity_domain::Timestamp;

/// The language segment of the path (`None` without one). Any of Didit's hosted-flow
/// languages is accepted in the path; the page is written in the ones Verity has translations
/// for, and otherwise follows `Accept-Language`.
#[derive(Debug, Clone, Copy)]
struct PathLang(Option<&'static str>);

pub fn routes() -> Router<AppState> {
    let mut router = Router::new().route(
        "/session/{token}",
        get(show).layer(Extension(PathLang(None))),
    );
    for code in LANGUAGES {
        router = router.route(
            &format!("/{code}/session/{{token}}"),
            get(show).layer(Extension(PathLang(Some(code)))),
        );
    }
    router
}

async fn show(
    State(state): State<AppState>,
    Extension(PathLang(path_lang)): Extension<PathLang>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = path_lang
        .and_then(Lang::from_code)
        .unwrap_or_else(|| Lang::negotiate(&headers));
    match render(&state, lang, &token).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn render(
    state: &AppState,
    lang: Lang,
    token: &str,
) -> Result<Response, crate::error::ApiError> {
    let Some(session) = state.store.session_by_token(token).await? else {
        return Ok(message_page(
            lang,
            &lang.t("flow.not_found_title"),
            "error",
            &lang.t("flow.not_found"),
            StatusCode::NOT_FOUND,
            Framing::Embeddable,
        ));
    };
    let past_expiry = session.expires_at.micros() <= Timestamp::now().micros()
        && matches!(
            session.status,
            SessionStatus::NotStarted | SessionStatus::InProgress
        );
    if session.status == SessionStatus::Expired || past_expiry {
        return Ok(message_page(
            lang,
            &lang.t("flow.expired_title"),
            "error",
            &lang.t("flow.expired"),
            StatusCode::GONE,
            Framing::Embeddable,
        ));
    }
    state.store.record_flow_activity(session.id).await?;
    let app = state.store.application(session.application_id).await?;
    let organization = state.store.organization(app.organization_id).await?.name;
    let branding = BrandingUrls::of(app.id, &state.store.branding(app.id).await?);
    let sandbox = session.environment == Environment::Sandbox;
    let link = session.url(state.public_url());
    let config = json!({
        "token": token,
        "lang": lang.code(),
        "organization": organization,
        "application": app.name,
        "sandbox": sandbox,
        "strings": lang.strings_with_prefix("flow."),
    });
    // A JSON data block is never executed (the CSP allows no inline script); `<` is escaped so
    // no value can close the element.
    let config = config.to_string().replace('<', "\\u003c");
    let banner = if sandbox {
        format!(
            "<p class=\"banner\" role=\"note\">{}</p>\n",
            escape(&lang.t("flow.sandbox_banner"))
        )
    } else {
        String::new()
    };
    let main = format!(
        "{banner}<p class=\"requester\">{requester}</p>\n\
         <div id=\"flow\" aria-busy=\"true\"><h1>{title}</h1><p>{loading}</p>\n\
         <noscript><p class=\"notice error\">{noscript}</p></noscript></div>\n\
         <p id=\"announce\" class=\"sr-only\" aria-live=\"polite\"></p>\n\
         <script type=\"application/json\" id=\"flow-config\">{config}</script>",
        requester = escape(&lang.fill("flow.requester", &[("organization", &organization)])),
        title = escape(&lang.t("flow.title")),
        loading = escape(&lang.t("flow.loading")),
        noscript = escape(&lang.t("flow.noscript")),
    );
    let aside = format!(
        "<h2>{}</h2>\n<p>{}</p>\n<div class=\"qr\">{}</div>\n<p class=\"note\" id=\"qr-status\" aria-live=\"polite\"></p>",
        escape(&lang.t("flow.qr_title")),
        escape(&lang.t("flow.qr_text")),
        qr_svg(&link, &lang.t("flow.qr_label")),
    );
    Ok(Page {
        lang,
        title: lang.t("flow.title"),
        main,
        aside: Some(aside),
        scripts: vec!["flow.js"],
        status: StatusCode::OK,
        framing: Framing::Embeddable,
        brand: Some(organization),
        branding: Some(branding),
    }
    .into_response())
}
