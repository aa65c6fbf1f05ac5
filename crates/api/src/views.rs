//! JSON shapes of responses that are not the decision itself.

use serde_json::{json, Value};
use verity_domain::session::Session;
use verity_store::{ApplicationProfile, IssuedCredentials, Organization, StoredWorkflow};

/// The create-session answer: Didit's ten keys plus `environment` (spec §9.4 puts it in every
/// payload; extra keys are safe for clients).
pub fn session_created(session: &Session, public_url: &str) -> Value {
    json!({
        "session_id": session.id,
        "session_number": session.number,
        "session_token": session.token.as_str(),
        "url": session.url(public_url),
        "vendor_data": session.vendor_data,
        "metadata": session.metadata,
        "status": session.status,
        "callback": session.callback,
        "workflow_id": session.workflow_id,
        "workflow_version": session.workflow_version,
        "environment": session.environment.as_str(),
    })
}

/// `GET /v3/session/{id}/`: the created shape plus lifecycle fields.
pub fn session_detail(session: &Session, public_url: &str) -> Value {
    let mut value = session_created(session, public_url);
    let object = value.as_object_mut().expect("object");
    object.insert("session_kind".into(), json!("user"));
    object.insert(
        "callback_method".into(),
        json!(session.callback_method.as_str()),
    );
    object.insert("features".into(), json!(session.feature_display_names()));
    object.insert("resubmit_info".into(), json!(session.resubmit_info));
    object.insert("created_at".into(), json!(session.created_at));
    object.insert("updated_at".into(), json!(session.updated_at));
    object.insert("expires_at".into(), json!(session.expires_at));
    value
}

/// A row of `GET /v3/sessions/`.
pub fn session_row(session: &Session, public_url: &str) -> Value {
    json!({
        "session_id": session.id,
        "session_kind": "user",
        "session_number": session.number,
        "session_token": session.token.as_str(),
        "url": session.url(public_url),
        "status": session.status,
        "vendor_data": session.vendor_data,
        "callback": session.callback,
        "workflow_id": session.workflow_id,
        "workflow_version": session.workflow_version,
        "features": session.feature_display_names(),
        "country": session.country,
        "environment": session.environment.as_str(),
        "created_at": session.created_at,
        "updated_at": session.updated_at,
        "expires_at": session.expires_at,
    })
}

/// A workflow version (spec §7.1 read fields).
pub fn workflow(stored: &StoredWorkflow, public_url: &str) -> Value {
    let settings = &stored.settings;
    let features: Vec<Value> = settings
        .features
        .iter()
        .map(|node| {
            json!({
                "feature": node.feature,
                "node_id": node.node_id,
                "label": node.label,
                "config": node.config,
            })
        })
        .collect();
    json!({
        "uuid": stored.version_id,
        "workflow_id": stored.workflow_id,
        "workflow_label": settings.label,
        "workflow_type": settings.workflow_type,
        "is_default": stored.is_default,
        "is_archived": stored.is_archived,
        "status": settings.status,
        "version": stored.version,
        "is_simple_workflow": true,
        "is_editable": true,
        "features": features,
        "workflow_url": format!("{public_url}/v3/workflows/{}/", stored.workflow_id),
        "total_price": "0.00",
        "min_price": "0.00",
        "max_price": "0.00",
        "special_add_on_prices": {},
        "max_retry_attempts": settings.max_retry_attempts,
        "retry_window_days": settings.retry_window_days,
        "session_expiration_time": settings.session_expiration_time,
        "is_white_label_enabled": settings.is_white_label_enabled,
        "is_desktop_allowed": settings.is_desktop_allowed,
        "created_at": stored.created_at,
        "updated_at": stored.updated_at,
    })
}

/// A row of `GET /auth/v2/organizations/me/` (spec §3.1).
pub fn organization(org: &Organization) -> Value {
    json!({
        "uuid": org.id,
        "name": org.name,
        "contact_email": org.contact_email,
        "created_at": org.created_at,
    })
}

/// An application as its organization's members see it (spec §3.1). `api_key` is `null`: Verity
/// keeps only a digest, so the key exists in the answer that created it and nowhere else
/// (Didit shows it again; this is a deliberate difference).
pub fn application_profile(profile: &ApplicationProfile) -> Value {
    let app = &profile.application;
    let metadata = &profile.metadata;
    json!({
        "uuid": app.id,
        "name": metadata.name,
        "client_id": app.client_id,
        "api_key": null,
        "environment": app.environment.as_str(),
        "website_url": metadata.website_url,
        "redirect_uris": metadata.redirect_uris,
        "terms_url": metadata.terms_url,
        "privacy_url": metadata.privacy_url,
        "description": metadata.description,
        "created_at": profile.created_at,
    })
}

/// A just-created application: the profile with its API key and client secret, shown once.
pub fn created_application(profile: &ApplicationProfile, credentials: &IssuedCredentials) -> Value {
    let mut value = application_profile(profile);
    let object = value.as_object_mut().expect("object");
    object.insert("api_key".into(), json!(credentials.api_key));
    object.insert("client_secret".into(), json!(credentials.client_secret));
    value
}
