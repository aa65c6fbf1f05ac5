//! Programmatic registration and login (spec §3.1): register → e-mailed code → verify-email,
//! which provisions an organization with a live application and answers console tokens and the
//! application's API key (shown once); login answers fresh console tokens.
//!
//! UNCERTAIN choices (Didit documents neither): a locked account answers 429 with
//! `Retry-After`, also on the failure that locks it; a wrong e-mail or password answers 401
//! `{"detail": "Invalid email or password."}`; a correct password on an unverified account
//! answers 403.
//!
//! Registering a pending (unverified) address again sends a new code but keeps the pending
//! password while its code is valid (see `Registration::Renewed`). Login attempts are counted
//! per account before the password is checked, and per client IP in the database; password
//! hashing admits one check per client IP at a time.

use super::no_store;
use crate::error::ApiError;
use crate::extract::{ClientIp, JsonObject};
use crate::mail::Mailer;
use crate::openapi::{LoginRequest, RegisterRequest, ResendCodeRequest, VerifyEmailRequest};
use crate::ratelimit::spend_budgets;
use crate::state::AppState;
use crate::views;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::net::IpAddr;
use verity_domain::account::{read_email, Credentials, Email, VerificationCode};
use verity_domain::fields::{FieldErrors, ObjectReader};
use verity_domain::ids::UserId;
use verity_domain::{Error as DomainError, Timestamp};
use verity_store::credentials::{hash_password, verify_password};
use verity_store::{Budget, CodeIssue, EmailVerification, LoginAdmission, Registration};

/// Counts a call against the client's hourly budget of `scope` (in the database: every process
/// shares it): `register` and `resend-otp` together, or `login` whichever account it names.
async fn count_per_ip(
    state: &AppState,
    scope: &'static str,
    limit: u32,
    ip: IpAddr,
) -> Result<(), ApiError> {
    let budget = Budget {
        scope,
        limit,
        window_seconds: 3600,
    };
    spend_budgets(&state.store, &[(budget, &ip.to_string())]).await
}

/// Counts a `register` / `resend-otp` call.
async fn count_registration_request(state: &AppState, ip: IpAddr) -> Result<(), ApiError> {
    let limit = state.config.accounts.requests_per_ip_per_hour;
    count_per_ip(state, "registration-ip", limit, ip).await
}

fn mailer(state: &AppState) -> Result<&Mailer, ApiError> {
    state.mailer.as_ref().ok_or(ApiError::MailDisabled)
}

fn cooling_down(retry_after_seconds: i64) -> ApiError {
    ApiError::RetryLater {
        detail: format!(
            "Please wait {retry_after_seconds} seconds before requesting a new verification code."
        ),
        retry_after_seconds: retry_after_seconds.max(1) as u64,
    }
}

/// Mails a code just issued; when that fails the code is withdrawn, so that the cooldown does
/// not stand in the way of a retry.
async fn send_code(
    state: &AppState,
    mailer: &Mailer,
    user_id: UserId,
    email: &Email,
    code: &str,
) -> Result<(), ApiError> {
    let sent = mailer
        .send_verification_code(email, code, state.config.accounts.code_ttl_seconds)
        .await;
    if sent.is_err() {
        state.store.discard_email_code(user_id, code).await?;
    }
    sent
}

#[utoipa::path(post, path = "/auth/v2/programmatic/register/", tag = "accounts",
    request_body = RegisterRequest,
    responses((status = 201, description = "{message, email}: account created, code e-mailed", body = Value),
              (status = 200, description = "{message}: the address was registered but not verified; a new code was e-mailed. The password stays the one of the pending registration while its code is valid, and is replaced only once that code has expired", body = Value),
              (status = 400, description = "Field errors: invalid e-mail, password rules (first broken rule), address already registered", body = Value),
              (status = 429, description = "Over 5 register/resend-otp calls from this IP in an hour, a code was sent to this address less than 60 s ago, or too many passwords are being checked for this IP", body = Value),
              (status = 500, description = "The code could not be e-mailed", body = Value),
              (status = 503, description = "No SMTP relay configured", body = Value)))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let mailer = mailer(&state)?;
    count_registration_request(&state, ip).await?;
    let credentials = Credentials::for_registration(&body)?;
    let password_hash = {
        let _hashing = state.password_hashing.enter(ip)?;
        hash_password(&credentials.password).await?
    };
    let code = VerificationCode::generate();
    let registration = state
        .store
        .register_user(
            &credentials.email,
            &password_hash,
            &code,
            &state.config.accounts,
            Timestamp::now(),
        )
        .await?;
    let (user_id, answer) = match registration {
        Registration::Created(user_id) => (
            user_id,
            (
                StatusCode::CREATED,
                Json(json!({
                    "message": "Registration successful. A verification code has been sent to your email.",
                    "email": credentials.email.as_str(),
                })),
            ),
        ),
        Registration::Renewed(user_id) => (
            user_id,
            (
                StatusCode::OK,
                Json(json!({"message": "A new verification code has been sent to your email."})),
            ),
        ),
        Registration::AlreadyVerified => {
            return Err(
                FieldErrors::single("email", "An account with this email already exists.").into(),
            )
        }
        Registration::CoolingDown {
            retry_after_seconds,
        } => return Err(cooling_down(retry_after_seconds)),
    };
    send_code(&state, mailer, user_id, &credentials.email, &code).await?;
    Ok(answer.into_response())
}

#[utoipa::path(post, path = "/auth/v2/programmatic/verify-email/", tag = "accounts",
    request_body = VerifyEmailRequest,
    responses((status = 200, description = "access_token, refresh_token, expires_in, organization{uuid, name}, application{uuid, name, client_id, api_key, client_secret, …}; the secrets are shown only here", body = Value),
              (status = 400, description = "Field errors, or a wrong, used-up or expired code", body = Value)))]
pub async fn verify_email(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let mut reader = ObjectReader::new(&body);
    let email = read_email(&mut reader);
    let code = reader.required_string("code", 64);
    let errors = reader.finish();
    let (Some(email), Some(code)) = (email, code) else {
        return Err(errors.into());
    };
    errors.into_result(())?;
    let invalid = || DomainError::Rule("Invalid verification code.".into());
    let Some(code) = VerificationCode::normalize(&code) else {
        return Err(invalid().into());
    };
    let account = match state
        .store
        .verify_email(&email, &code, Timestamp::now())
        .await?
    {
        EmailVerification::Verified(account) => account,
        EmailVerification::InvalidCode => return Err(invalid().into()),
        EmailVerification::ExpiredCode => {
            return Err(DomainError::Rule(
                "Verification code has expired. Request a new one.".into(),
            )
            .into())
        }
    };
    let tokens = state
        .tokens
        .issue_user(account.user.id, account.organization.id)?;
    let application = state
        .store
        .organization_application(account.organization.id, account.application.id)
        .await?;
    Ok(no_store(
        Json(json!({
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in,
            "organization": {"uuid": account.organization.id, "name": account.organization.name},
            "application": views::created_application(&application, &account.credentials),
        }))
        .into_response(),
    ))
}

#[utoipa::path(post, path = "/auth/v2/programmatic/resend-otp/", tag = "accounts",
    request_body = ResendCodeRequest,
    responses((status = 200, description = "{}: a new code was e-mailed if the address awaits verification", body = Value),
              (status = 400, description = "Field errors", body = Value),
              (status = 429, description = "Within the 60 s cooldown of this address, or over the hourly budget of this IP", body = Value),
              (status = 500, description = "The code could not be e-mailed", body = Value),
              (status = 503, description = "No SMTP relay configured", body = Value)))]
pub async fn resend_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let mailer = mailer(&state)?;
    count_registration_request(&state, ip).await?;
    let mut reader = ObjectReader::new(&body);
    let email = read_email(&mut reader);
    // Accepted (the docs send it; repo:mcp does not) but not checked: since it may be left out,
    // checking it would protect nothing, and would offer a password oracle outside the login
    // lockout.
    reader.value("password");
    let errors = reader.finish();
    let Some(email) = email else {
        return Err(errors.into());
    };
    errors.into_result(())?;
    let code = VerificationCode::generate();
    match state
        .store
        .reissue_email_code(&email, &code, &state.config.accounts, Timestamp::now())
        .await?
    {
        CodeIssue::Issued(user_id) => send_code(&state, mailer, user_id, &email, &code).await?,
        // Same answer as for a pending account: whether an address is registered is not told here.
        CodeIssue::NoPendingAccount => {}
        CodeIssue::CoolingDown {
            retry_after_seconds,
        } => return Err(cooling_down(retry_after_seconds)),
    }
    Ok(Json(json!({})))
}

fn locked_out(until: Timestamp, now: Timestamp) -> ApiError {
    let seconds = (until.micros() - now.micros() + 999_999)
        .div_euclid(1_000_000)
        .max(1);
    ApiError::RetryLater {
        detail: format!("Too many failed login attempts. Try again in {seconds} seconds."),
        retry_after_seconds: seconds as u64,
    }
}

#[utoipa::path(post, path = "/auth/v2/programmatic/login/", tag = "accounts",
    request_body = LoginRequest,
    responses((status = 200, description = "access_token, refresh_token, expires_in, message", body = Value),
              (status = 400, description = "Field errors", body = Value),
              (status = 401, description = "Wrong e-mail or password", body = Value),
              (status = 403, description = "The e-mail address is not verified yet", body = Value),
              (status = 429, description = "Locked after repeated failures: 5 → 15 min, 10 → 1 h, 20 → 24 h (attempts are counted before the password is checked); over 60 attempts from this IP in an hour; or a password check from this IP is already in progress", body = Value)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let credentials = Credentials::for_login(&body)?;
    let limit = state.config.accounts.login_attempts_per_ip_per_hour;
    count_per_ip(&state, "login-ip", limit, ip).await?;
    let _hashing = state.password_hashing.enter(ip)?;
    let now = Timestamp::now();
    let account = match state.store.admit_login(&credentials.email, now).await? {
        LoginAdmission::Admitted(account) => account,
        LoginAdmission::Locked(until) => return Err(locked_out(until, now)),
        LoginAdmission::Unknown => {
            // The same work as a wrong password, so that the answer's timing does not tell.
            verify_password(&credentials.password, None).await?;
            return Err(ApiError::InvalidLogin);
        }
    };
    let matches =
        verify_password(&credentials.password, Some(account.password_hash.clone())).await?;
    if !matches {
        return Err(match account.locked_until {
            Some(until) => locked_out(until, now),
            None => ApiError::InvalidLogin,
        });
    }
    state.store.record_successful_login(account.user_id).await?;
    let Some(organization_id) = account.organization_id else {
        return Err(DomainError::Forbidden(
            "Email address is not verified. Verify it with the code sent to it first.".into(),
        )
        .into());
    };
    let tokens = state.tokens.issue_user(account.user_id, organization_id)?;
    Ok(no_store(
        Json(json!({
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_in": tokens.expires_in,
            "message": "Login successful.",
        }))
        .into_response(),
    ))
}
