//! White-label branding of an application's pages (`GET|PATCH /v3/customization/`; the path is
//! UNCERTAIN in the spec, see `verity_domain::branding`), and the public files the pages load:
//! the images and a one-rule stylesheet with the accent colour (so the pages' CSP needs no
//! inline style).

use crate::error::{not_found, ApiError};
use crate::extract::{FormBody, Tenant};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use verity_domain::branding::{AccentColor, BrandImage, Branding, BRAND_IMAGE_MAX_BYTES};
use verity_domain::capture::{check_upload, IMAGE_TYPES};
use verity_domain::fields::FieldErrors;
use verity_domain::ids::ApplicationId;

/// Where the pages load an application's branding from.
pub struct BrandingUrls {
    pub logo: Option<String>,
    pub favicon: Option<String>,
    pub stylesheet: Option<String>,
}

impl BrandingUrls {
    /// Paths (under the server's origin) of the files a page needs for `branding`.
    pub fn of(app: ApplicationId, branding: &Branding) -> Self {
        let image = |kind: BrandImage| {
            branding
                .images
                .get(&kind)
                .map(|image| format!("/branding/{app}/{}?v={}", kind.as_str(), image.version))
        };
        BrandingUrls {
            logo: branding.logo().and_then(|(kind, _)| image(kind)),
            favicon: image(BrandImage::ImageFavicon),
            stylesheet: branding
                .primary_color
                .as_ref()
                .map(|color| format!("/branding/{app}/theme.css?v={}", &color.as_str()[1..])),
        }
    }
}

fn describe(state: &AppState, app: ApplicationId, branding: &Branding) -> Value {
    let mut out = json!({"primary_color": branding.primary_color});
    for kind in BrandImage::ALL {
        out[kind.as_str()] = json!(branding.images.get(&kind).map(|image| format!(
            "{}/branding/{app}/{}?v={}",
            state.public_url(),
            kind.as_str(),
            image.version
        )));
    }
    out
}

#[utoipa::path(get, path = "/v3/customization/", tag = "customization",
    security(("api_key" = [])),
    responses((status = 200, description = "{primary_color, image_square, image_rectangular, image_favicon} (URLs or null)", body = Value)))]
pub async fn get_branding(
    State(state): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Value>, ApiError> {
    let branding = state.store.branding(tenant.app.id).await?;
    Ok(Json(describe(&state, tenant.app.id, &branding)))
}

#[utoipa::path(patch, path = "/v3/customization/", tag = "customization",
    security(("api_key" = [])),
    request_body(content = Value, description = "multipart/form-data: primary_color (#rrggbb with at least 4.5:1 contrast on white; empty removes it) and files image_square, image_rectangular, image_favicon (JPEG, PNG or WebP, ≤ 1 MB); or JSON {primary_color, image_*: null} to remove"),
    responses((status = 200, description = "The branding after the change", body = Value),
              (status = 400, description = "Field errors (colour, unknown field)"),
              (status = 413, description = "file_too_large, image_dimensions_too_large"),
              (status = 415, description = "unsupported_file_type")))]
pub async fn update_branding(
    State(state): State<AppState>,
    tenant: Tenant,
    form: FormBody,
) -> Result<Json<Value>, ApiError> {
    let mut branding = state.store.branding(tenant.app.id).await?;
    let mut errors = FieldErrors::new();
    for (name, value) in &form.fields {
        if name == "primary_color" {
            match value {
                Value::Null => branding.primary_color = None,
                Value::String(text) if text.trim().is_empty() => branding.primary_color = None,
                Value::String(text) => match AccentColor::parse(text) {
                    Ok(color) => branding.primary_color = Some(color),
                    Err(message) => errors.add(name, message),
                },
                _ => errors.add(name, "Not a valid string."),
            }
            continue;
        }
        match (BrandImage::parse(name), value) {
            (Some(kind), Value::Null) => {
                branding.images.remove(&kind);
            }
            (Some(_), _) => errors.add(
                name,
                "Send the image as a file in a multipart/form-data body, or null to remove it.",
            ),
            (None, _) => errors.add(name, "Unknown field."),
        }
    }
    let mut uploads = Vec::new();
    for (name, bytes) in form.files {
        let Some(kind) = BrandImage::parse(&name) else {
            errors.add(&name, "Unknown field.");
            continue;
        };
        uploads.push((
            kind,
            check_upload(bytes.to_vec(), &IMAGE_TYPES, BRAND_IMAGE_MAX_BYTES)?,
        ));
    }
    if uploads.is_empty() && form.fields.is_empty() && errors.is_empty() {
        errors.add("non_field_errors", "Send at least one field to update.");
    }
    errors.into_result(())?;
    let branding = state
        .store
        .save_branding(tenant.app.id, branding, uploads)
        .await?;
    Ok(Json(describe(&state, tenant.app.id, &branding)))
}

/// Public: the pages (and the business's own users) load these without a key.
#[utoipa::path(get, path = "/branding/{application_id}/{name}", tag = "customization",
    params(("application_id" = String, Path), ("name" = String, Path, description = "image_square | image_rectangular | image_favicon | theme.css")),
    responses((status = 200, description = "The image, or the stylesheet with the accent colour"), (status = 404, description = "Not set")))]
pub async fn branding_file(
    State(state): State<AppState>,
    Path((app, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let app = ApplicationId::parse(&app).ok_or_else(not_found)?;
    let branding = state.store.branding(app).await?;
    // Versioned URLs (`?v=`) change with every change, so the files may be cached.
    let cache = (header::CACHE_CONTROL, "public, max-age=3600".to_owned());
    if name == "theme.css" {
        let color = branding.primary_color.ok_or_else(not_found)?;
        let css = format!(":root {{ --accent: {color}; --accent-ink: #ffffff; }}\n");
        return Ok((
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8".to_owned()),
                cache,
            ],
            css,
        )
            .into_response());
    }
    let kind = BrandImage::parse(&name).ok_or_else(not_found)?;
    let image = branding.images.get(&kind).ok_or_else(not_found)?;
    let bytes = state
        .store
        .media
        .get(&image.object_key)
        .await?
        .ok_or_else(not_found)?;
    Ok((
        [
            (header::CONTENT_TYPE, image.content_type.clone()),
            cache,
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
