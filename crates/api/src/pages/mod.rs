//! Server-rendered pages for people (not API clients): the data-transfer consent page and
//! the hosted verification flow. The reusable pieces live here:
//!
//! - [`Lang`] and [`I18n`]: English and Spanish strings from `i18n/*.json`, embedded in the
//!   binary; the language comes from the path (`/es/…`) or else `Accept-Language`;
//! - [`escape`]: HTML escaping for every value put into markup;
//! - [`Page`]: the layout, answered with the security headers every page carries (a CSP that
//!   allows no inline script or style, `no-store`, framing per [`Framing`], no referrer — the
//!   links carry secrets);
//! - [`assets`]: embedded CSS/JS served under `/assets/`, versioned by content digest and cached
//!   for a year;
//! - [`qr_svg`]: a QR code as inline SVG.
//!
//! No template engine: pages are small, and building them in Rust keeps every interpolation
//! visibly escaped.

pub mod data_transfer;
pub mod flow;

use crate::state::AppState;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The languages pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The first supported language of `Accept-Language`, by its `q` weights; English otherwise.
    pub fn negotiate(headers: &HeaderMap) -> Lang {
        let Some(header) = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
        else {
            return Lang::En;
        };
        let mut offers: Vec<(f32, usize, Lang)> = header
            .split(',')
            .enumerate()
            .filter_map(|(position, item)| {
                let mut parts = item.split(';');
                let lang = Lang::from_code(parts.next()?.trim())?;
                let weight = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (weight > 0.0).then_some((weight, position, lang))
            })
            .collect();
        offers.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        offers.first().map_or(Lang::En, |offer| offer.2)
    }

    /// The path prefix of an explicitly chosen language: `""` or `"/es"`.
    pub fn prefix(explicit: Option<Lang>) -> String {
        explicit.map_or_else(String::new, |lang| format!("/{}", lang.code()))
    }
}

/// Translated strings. Every language file has the same keys (a test checks it).
pub struct I18n {
    strings: HashMap<&'static str, Map<String, Value>>,
}

static I18N: LazyLock<I18n> = LazyLock::new(|| {
    let parse = |text: &str| -> Map<String, Value> {
        serde_json::from_str(text).expect("embedded translations are valid JSON")
    };
    I18n {
        strings: HashMap::from([
            ("en", parse(include_str!("i18n/en.json"))),
            ("es", parse(include_str!("i18n/es.json"))),
        ]),
    }
});

impl Lang {
    /// The string for `key`; a missing key shows as the key itself (the tests forbid that).
    pub fn t(self, key: &str) -> String {
        I18N.strings[self.code()]
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(key)
            .to_owned()
    }

    /// Like [`Lang::t`] with `{name}` placeholders replaced by the given plain-text values.
    pub fn fill(self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.t(key);
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// Every string whose key starts with `prefix` (what a page's script needs), as JSON.
    pub fn strings_with_prefix(self, prefix: &str) -> Map<String, Value> {
        I18N.strings[self.code()]
            .iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// Whether `key` is translated.
    pub fn has(self, key: &str) -> bool {
        I18N.strings[self.code()].contains_key(key)
    }
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One embedded static file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 4] = [
    Asset {
        name: "pages.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/pages.css"),
    },
    Asset {
        name: "data-transfer.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/data-transfer.js"),
    },
    Asset {
        name: "flow.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/flow.js"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        bytes: include_bytes!("assets/favicon.svg"),
    },
];

static ASSET_VERSIONS: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| (a.name, hex::encode(&Sha256::digest(a.bytes)[..8])))
        .collect()
});

/// `/assets/{name}?v={digest}`: a URL that changes whenever the file does.
pub fn asset_url(name: &str) -> String {
    let version = ASSET_VERSIONS
        .get(name)
        .unwrap_or_else(|| panic!("no embedded asset {name}"));
    format!("/assets/{name}?v={version}")
}

/// Serves the embedded assets. A request naming the current version may be cached for a year.
pub fn assets() -> Router<AppState> {
    Router::new().route(
        "/assets/{name}",
        get(
            |Path(name): Path<String>, uri: axum::http::Uri| async move {
                let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
                    return (StatusCode::NOT_FOUND, "Not found.").into_response();
                };
                let current = format!("v={}", ASSET_VERSIONS[asset.name]);
                let cache = if uri.query() == Some(current.as_str()) {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                };
                let mut response = asset.bytes.into_response();
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                );
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
                headers.insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                response
            },
        ),
    )
}

/// A QR code of `text` as an SVG element (dark modules on white, with a quiet zone).
pub fn qr_svg(text: &str, label: &str) -> String {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M) else {
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Drop the XML prolog; label the image for assistive technology.
    let svg = svg.find("<svg").map_or(svg.as_str(), |start| &svg[start..]);
    svg.replacen(
        "<svg",
        &format!("<svg role=\"img\" aria-label=\"{}\"", escape(label)),
        1,
    )
}

/// A page in the shared layout.
pub struct Page {
    pub lang: Lang,
    pub title: String,
    /// Trusted markup: every value in it was escaped when it was put there.
    pub main: String,
    /// Markup beside the main column on wide screens (hidden on narrow ones).
    pub aside: Option<String>,
    pub scripts: Vec<&'static str>,
    pub status: StatusCode,
    pub framing: Framing,
    /// The name in the top bar (white label); Verity's own name when `None`.
    pub brand: Option<String>,
    /// The application's logo, favicon and accent stylesheet (white label).
    pub branding: Option<crate::routes::branding::BrandingUrls>,
}

/// Who may frame a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Nobody (`frame-ancestors 'none'`, `X-Frame-Options: DENY`): pages whose answers are bound
    /// to a browser cookie, where a framing site could trick a click (data transfer).
    Deny,
    /// Any site (`frame-ancestors *`), with the camera and microphone allowed to this origin
    /// only: the hosted verification flow, which businesses embed in
    /// `<iframe allow="camera; microphone; fullscreen">`. The session token in the URL is the
    /// only capability and the framing site already has it; the page holds no cookie or
    /// ambient authority a framing site could borrow.
    Embeddable,
}

impl Page {
    pub fn into_response(self) -> Response {
        let scripts: String = self
            .scripts
            .iter()
            .map(|name| {
                format!(
                    "<script src=\"{}\" defer></script>",
                    escape(&asset_url(name))
                )
            })
            .collect();
        let aside = self
            .aside
            .map(|a| format!("<aside class=\"aside\">{a}</aside>"))
            .unwrap_or_default();
        let brand = escape(&self.brand.unwrap_or_else(|| self.lang.t("brand")));
        let branding = self
            .branding
            .unwrap_or(crate::routes::branding::BrandingUrls {
                logo: None,
                favicon: None,
                stylesheet: None,
            });
        let icon = match &branding.favicon {
            Some(url) => format!("<link rel=\"icon\" href=\"{}\">", escape(url)),
            None => format!(
                "<link rel=\"icon\" href=\"{}\" type=\"image/svg+xml\">",
                escape(&asset_url("favicon.svg"))
            ),
        };
        let theme = branding
            .stylesheet
            .map(|url| format!("\n<link rel=\"stylesheet\" href=\"{}\">", escape(&url)))
            .unwrap_or_default();
        let logo = branding
            .logo
            .map(|url| format!("<img class=\"logo\" src=\"{}\" alt=\"\">", escape(&url)))
            .unwrap_or_default();
        let html = format!(
            "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n\
             <title>{title} · {brand}</title>\n\
             {icon}\n\
             <link rel=\"stylesheet\" href=\"{css}\">{theme}\n{scripts}\n</head>\n<body>\n\
             <header class=\"bar\">{logo}<span class=\"brand\">{brand}</span></header>\n\
             <div class=\"layout\">\n<main id=\"main\" class=\"card\" tabindex=\"-1\">\n{main}\n</main>\n{aside}\n</div>\n\
             </body>\n</html>\n",
            lang = self.lang.code(),
            title = escape(&self.title),
            css = escape(&asset_url("pages.css")),
            main = self.main,
        );
        let mut response = (self.status, html).into_response();
        secure_page_headers(response.headers_mut(), self.framing);
        response
    }
}

/// A notice paragraph (`role="alert"` for errors, `status` otherwise); nothing without text.
pub fn notice(text: Option<&str>, tone: &str) -> String {
    match text {
        Some(text) => {
            let role = if tone == "error" { "alert" } else { "status" };
            format!(
                "<p class=\"notice {tone}\" role=\"{role}\">{}</p>\n",
                escape(text)
            )
        }
        None => String::new(),
    }
}

/// A page with a heading and one notice (unknown or expired links, final answers).
pub fn message_page(
    lang: Lang,
    title: &str,
    tone: &str,
    text: &str,
    status: StatusCode,
    framing: Framing,
) -> Response {
    Page {
        lang,
        title: title.to_owned(),
        main: format!("<h1>{}</h1>\n{}", escape(title), notice(Some(text), tone)),
        aside: None,
        scripts: Vec::new(),
        status,
        framing,
        brand: None,
        branding: None,
    }
    .into_response()
}

/// Headers of every HTML page: nothing inline may run, nothing is cached, no referrer leaks the
/// link's token, and only embeddable pages may be framed.
pub fn secure_page_headers(headers: &mut HeaderMap, framing: Framing) {
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_TYPE, "text/html; charset=utf-8");
    match framing {
        Framing::Deny => {
            set(
                headers,
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            );
            set(headers, header::X_FRAME_OPTIONS, "DENY");
        }
        Framing::Embeddable => {
            // Captures are previewed from blob: URLs and sent with fetch to this origin.
            set(
                headers,
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; style-src 'self'; \
                 img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; \
                 form-action 'self'; frame-ancestors *; base-uri 'none'",
            );
            set(
                headers,
                header::HeaderName::from_static("permissions-policy"),
                "camera=(self), microphone=(self), fullscreen=(self), geolocation=()",
            );
        }
    }
    set(headers, header::CACHE_CONTROL, "no-store");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
}

/// Reads an `application/x-www-form-urlencoded` body into pairs; a body that is not one reads
/// as no fields.
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

pub fn form_field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key() {
        let keys = |lang: &str| {
            let mut keys: Vec<String> = I18N.strings[lang].keys().cloned().collect();
            keys.sort();
            keys
        };
        assert_eq!(keys("en"), keys("es"));
        for lang in Lang::ALL {
            for (key, value) in &I18N.strings[lang.code()] {
                assert!(
                    value.as_str().is_some_and(|v| !v.is_empty()),
                    "{key} in {lang:?}"
                );
            }
        }
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        let headers = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCEPT_LANGUAGE,
                HeaderValue::from_str(value).unwrap(),
            );
            h
        };
        assert_eq!(Lang::negotiate(&HeaderMap::new()), Lang::En);
        assert_eq!(
            Lang::negotiate(&headers("es-ES,es;q=0.9,en;q=0.8")),
            Lang::Es
        );
        assert_eq!(
            Lang::negotiate(&headers("fr, en;q=0.5, es;q=0.7")),
            Lang::Es
        );
        assert_eq!(Lang::negotiate(&headers("de, es;q=0")), Lang::En);
        assert_eq!(Lang::from_code("ES_mx"), Some(Lang::Es));
    }

    #[test]
    fn escaping_covers_markup_and_attributes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(
            Lang::Es.fill("dt.requester", &[("organization", "Acme")]),
            "Acme solicita datos de una identidad que ya verificaste."
        );
    }

    #[test]
    fn qr_codes_are_labelled_svg() {
        let svg = qr_svg("https://verity.example/authorize/abc", "QR <code>");
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"QR &lt;code&gt;\""));
        assert!(svg.contains("<path") || svg.contains("<rect"));
        for asset in ASSETS {
            assert!(asset_url(asset.name).starts_with(&format!("/assets/{}?v=", asset.name)));
        }
    }
}
