//! Organizations, applications (the tenants), their API keys and OAuth/webhook credentials, and
//! the first-start bootstrap.

use crate::credentials::{digest, digests_match, random_client_id, random_secret};
use crate::error::{corrupt, not_found, Result};
use crate::workflows::insert_workflow_version;
use crate::{Sealer, Store};
use sqlx::Row;
use verity_domain::account::ApplicationMetadata;
use verity_domain::branding::{BrandImage, Branding, StoredBrandImage};
use verity_domain::capture::CheckedCapture;
use verity_domain::ids::{ApiKeyId, ApplicationId, OrganizationId, WorkflowId};
use verity_domain::session::Environment;
use verity_domain::workflow::WorkflowSettings;
use verity_domain::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub contact_email: Option<String>,
    pub created_at: Timestamp,
}

/// An application as the request path sees it after authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: ApplicationId,
    pub organization_id: OrganizationId,
    pub name: String,
    pub environment: Environment,
    pub client_id: String,
}

/// The result of a successful API-key check.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticatedKey {
    pub key_id: ApiKeyId,
    pub application: Application,
}

/// Secrets minted for an application; shown once, never stored in the clear.
#[derive(Debug, Clone)]
pub struct IssuedCredentials {
    pub api_key: String,
    pub client_id: String,
    pub client_secret: String,
    pub webhook_secret: String,
    pub default_workflow_id: WorkflowId,
}

/// An application with what its organization's members may edit (the console view).
#[derive(Debug, Clone, PartialEq)]
pub struct ApplicationProfile {
    pub application: Application,
    pub metadata: ApplicationMetadata,
    pub created_at: Timestamp,
}

/// A row of `verity app list`.
#[derive(Debug, Clone)]
pub struct ApplicationSummary {
    pub application: Application,
    pub organization_name: String,
    pub active_keys: i64,
    pub sessions: i64,
    pub created_at: Timestamp,
}

const BOOTSTRAP_MARKER: &str = "bootstrapped_at";

const ORGANIZATION_COLUMNS: &str = "id, name, contact_email, created_at";

fn organization_from_row(row: &sqlx::any::AnyRow) -> Result<Organization> {
    let id: String = row.try_get("id")?;
    Ok(Organization {
        id: OrganizationId::parse(&id).ok_or_else(|| corrupt("organization id", &id))?,
        name: row.try_get("name")?,
        contact_email: row.try_get("contact_email")?,
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
    })
}

const PROFILE_COLUMNS: &str = "id, organization_id, name, environment, client_id, website_url, \
    redirect_uris, terms_url, privacy_url, description, created_at";

fn profile_from_row(row: &sqlx::any::AnyRow) -> Result<ApplicationProfile> {
    let redirect_uris: String = row.try_get("redirect_uris")?;
    Ok(ApplicationProfile {
        application: application_from_row(row)?,
        metadata: ApplicationMetadata {
            name: row.try_get("name")?,
            website_url: row.try_get("website_url")?,
            redirect_uris: serde_json::from_str(&redirect_uris)?,
            terms_url: row.try_get("terms_url")?,
            privacy_url: row.try_get("privacy_url")?,
            description: row.try_get("description")?,
        },
        created_at: Timestamp::from_micros(row.try_get("created_at")?),
    })
}

fn application_from_row(row: &sqlx::any::AnyRow) -> Result<Application> {
    let id: String = row.try_get("id")?;
    let org: String = row.try_get("organization_id")?;
    let environment: String = row.try_get("environment")?;
    Ok(Application {
        id: ApplicationId::parse(&id).ok_or_else(|| corrupt("application id", &id))?,
        organization_id: OrganizationId::parse(&org)
            .ok_or_else(|| corrupt("organization id", &org))?,
        name: row.try_get("name")?,
        environment: Environment::parse(&environment)
            .ok_or_else(|| corrupt("environment", &environment))?,
        client_id: row.try_get("client_id")?,
    })
}

impl Store {
    /// Looks an API key up by its digest. Revoked keys do not authenticate.
    pub async fn authenticate_api_key(&self, presented: &str) -> Result<Option<AuthenticatedKey>> {
        let presented_digest = digest(presented);
        let row = sqlx::query(
            "SELECT k.id AS key_id, k.digest, a.id, a.organization_id, a.name, a.environment, a.client_id \
             FROM api_keys k JOIN applications a ON a.id = k.application_id \
             WHERE k.digest = $1 AND k.revoked_at IS NULL",
        )
        .bind(&presented_digest)
        .fetch_optional(&self.db.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("digest")?;
        // The lookup already matched on the digest; the constant-time comparison keeps the check
        // itself free of timing differences should the lookup ever become a prefix search.
        if !digests_match(&stored, &presented_digest) {
            return Ok(None);
        }
        let key_id: String = row.try_get("key_id")?;
        Ok(Some(AuthenticatedKey {
            key_id: ApiKeyId::parse(&key_id).ok_or_else(|| corrupt("api key id", &key_id))?,
            application: application_from_row(&row)?,
        }))
    }

    pub async fn organization(&self, id: OrganizationId) -> Result<Organization> {
        let row = sqlx::query(&format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        organization_from_row(&row)
    }

    pub async fn create_organization(&self, name: &str) -> Result<Organization> {
        let mut tx = self.db.write.begin().await?;
        let org = insert_organization(&mut tx, name, None).await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Creates an application with fresh credentials and the four workflow templates; the first
    /// template (KYC) becomes its default workflow.
    pub async fn create_application(
        &self,
        organization_id: OrganizationId,
        metadata: &ApplicationMetadata,
        environment: Environment,
    ) -> Result<(Application, IssuedCredentials)> {
        let mut tx = self.db.write.begin().await?;
        let created = insert_application(
            &mut tx,
            &self.sealer,
            organization_id,
            metadata,
            environment,
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// On the very first start, creates an organization with a live and a sandbox application.
    /// Returns `None` when the database was already initialised (also by a concurrent process:
    /// the marker row's primary key decides who bootstraps).
    pub async fn bootstrap_if_empty(
        &self,
    ) -> Result<Option<(Organization, Vec<(Application, IssuedCredentials)>)>> {
        let claimed = sqlx::query(
            "INSERT INTO server_state (state_key, state_value) VALUES ($1, $2) ON CONFLICT (state_key) DO NOTHING",
        )
        .bind(BOOTSTRAP_MARKER)
        .bind(Timestamp::now().to_iso())
        .execute(&self.db.write)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(None);
        }
        let org = self.create_organization("Default Organization").await?;
        let live = self
            .create_application(
                org.id,
                &ApplicationMetadata::named("Live application"),
                Environment::Live,
            )
            .await?;
        let sandbox = self
            .create_application(
                org.id,
                &ApplicationMetadata::named("Sandbox application"),
                Environment::Sandbox,
            )
            .await?;
        Ok(Some((org, vec![live, sandbox])))
    }

    pub async fn list_applications(&self) -> Result<Vec<ApplicationSummary>> {
        let rows = sqlx::query(
            "SELECT a.id, a.organization_id, a.name, a.environment, a.client_id, a.created_at, \
             o.name AS organization_name, \
             (SELECT COUNT(*) FROM api_keys k WHERE k.application_id = a.id AND k.revoked_at IS NULL) AS active_keys, \
             (SELECT COUNT(*) FROM sessions s WHERE s.application_id = a.id) AS sessions \
             FROM applications a JOIN organizations o ON o.id = a.organization_id ORDER BY a.created_at",
        )
        .fetch_all(&self.db.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApplicationSummary {
                    application: application_from_row(row)?,
                    organization_name: row.try_get("organization_name")?,
                    active_keys: row.try_get("active_keys")?,
                    sessions: row.try_get("sessions")?,
                    created_at: Timestamp::from_micros(row.try_get("created_at")?),
                })
            })
            .collect()
    }

    pub async fn application(&self, id: ApplicationId) -> Result<Application> {
        let row = sqlx::query(
            "SELECT id, organization_id, name, environment, client_id FROM applications WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        application_from_row(&row)
    }

    /// The applications of an organization, oldest first.
    pub async fn organization_applications(
        &self,
        organization_id: OrganizationId,
    ) -> Result<Vec<ApplicationProfile>> {
        let rows = sqlx::query(&format!(
            "SELECT {PROFILE_COLUMNS} FROM applications WHERE organization_id = $1 ORDER BY created_at, id"
        ))
        .bind(organization_id.to_string())
        .fetch_all(&self.db.read)
        .await?;
        rows.iter().map(profile_from_row).collect()
    }

    /// One application of an organization; another organization's application is not found.
    pub async fn organization_application(
        &self,
        organization_id: OrganizationId,
        application_id: ApplicationId,
    ) -> Result<ApplicationProfile> {
        let row = sqlx::query(&format!(
            "SELECT {PROFILE_COLUMNS} FROM applications WHERE id = $1 AND organization_id = $2"
        ))
        .bind(application_id.to_string())
        .bind(organization_id.to_string())
        .fetch_optional(&self.db.read)
        .await?
        .ok_or_else(not_found)?;
        profile_from_row(&row)
    }

    /// Replaces the editable metadata of an organization's application (never its keys).
    pub async fn update_application_metadata(
        &self,
        organization_id: OrganizationId,
        application_id: ApplicationId,
        metadata: &ApplicationMetadata,
    ) -> Result<ApplicationProfile> {
        let updated = sqlx::query(
            "UPDATE applications SET name = $1, website_url = $2, redirect_uris = $3, \
             terms_url = $4, privacy_url = $5, description = $6 \
             WHERE id = $7 AND organization_id = $8",
        )
        .bind(&metadata.name)
        .bind(&metadata.website_url)
        .bind(serde_json::to_string(&metadata.redirect_uris)?)
        .bind(&metadata.terms_url)
        .bind(&metadata.privacy_url)
        .bind(&metadata.description)
        .bind(application_id.to_string())
        .bind(organization_id.to_string())
        .execute(&self.db.write)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(not_found());
        }
        self.organization_application(organization_id, application_id)
            .await
    }

    /// Revokes every active key of the application and issues a new one (shown once).
    pub async fn rotate_api_key(&self, application_id: ApplicationId) -> Result<String> {
        self.application(application_id).await?;
        let api_key = random_secret();
        let mut tx = self.db.write.begin().await?;
        sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE application_id = $2 AND revoked_at IS NULL",
        )
        .bind(Timestamp::now().micros())
        .bind(application_id.to_string())
        .execute(&mut *tx)
        .await?;
        insert_api_key(&mut tx, application_id, "rotated", &api_key).await?;
        tx.commit().await?;
        Ok(api_key)
    }

    /// The webhook signing secret of an application, unsealed.
    pub async fn webhook_secret(&self, application_id: ApplicationId) -> Result<String> {
        let sealed: String =
            sqlx::query_scalar("SELECT webhook_secret_sealed FROM applications WHERE id = $1")
                .bind(application_id.to_string())
                .fetch_optional(&self.db.read)
                .await?
                .ok_or_else(not_found)?;
        let bytes = self.sealer.open(&sealed)?;
        Ok(String::from_utf8(bytes).map_err(anyhow::Error::from)?)
    }
}

pub(crate) async fn insert_organization(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    name: &str,
    contact_email: Option<&str>,
) -> Result<Organization> {
    let org = Organization {
        id: OrganizationId::random(),
        name: name.to_owned(),
        contact_email: contact_email.map(str::to_owned),
        created_at: Timestamp::now(),
    };
    sqlx::query(
        "INSERT INTO organizations (id, name, contact_email, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(org.id.to_string())
    .bind(&org.name)
    .bind(&org.contact_email)
    .bind(org.created_at.micros())
    .execute(&mut **tx)
    .await?;
    Ok(org)
}

pub(crate) async fn insert_application(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sealer: &Sealer,
    organization_id: OrganizationId,
    metadata: &ApplicationMetadata,
    environment: Environment,
) -> Result<(Application, IssuedCredentials)> {
    let application = Application {
        id: ApplicationId::random(),
        organization_id,
        name: metadata.name.clone(),
        environment,
        client_id: random_client_id(),
    };
    let client_secret = random_secret();
    let webhook_secret = random_secret();
    let api_key = random_secret();
    let now = Timestamp::now().micros();
    sqlx::query(
        "INSERT INTO applications (id, organization_id, name, environment, client_id, \
         client_secret_digest, webhook_secret_sealed, session_counter, created_at, website_url, \
         redirect_uris, terms_url, privacy_url, description) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $11, $12, $13)",
    )
    .bind(application.id.to_string())
    .bind(organization_id.to_string())
    .bind(&metadata.name)
    .bind(environment.as_str())
    .bind(&application.client_id)
    .bind(digest(&client_secret))
    .bind(sealer.seal(webhook_secret.as_bytes()))
    .bind(now)
    .bind(&metadata.website_url)
    .bind(serde_json::to_string(&metadata.redirect_uris)?)
    .bind(&metadata.terms_url)
    .bind(&metadata.privacy_url)
    .bind(&metadata.description)
    .execute(&mut **tx)
    .await?;
    insert_api_key(tx, application.id, "default", &api_key).await?;
    let mut default_workflow_id = None;
    // Newest first is the list order, so the default (first) template gets the latest time.
    for (age, settings) in WorkflowSettings::templates_for(environment)
        .iter()
        .enumerate()
    {
        let workflow_id = WorkflowId::random();
        insert_workflow_version(
            tx,
            application.id,
            workflow_id,
            1,
            settings,
            now - age as i64,
        )
        .await?;
        default_workflow_id.get_or_insert(workflow_id);
    }
    let default_workflow_id = default_workflow_id.expect("templates are not empty");
    sqlx::query("UPDATE applications SET default_workflow_id = $1 WHERE id = $2")
        .bind(default_workflow_id.to_string())
        .bind(application.id.to_string())
        .execute(&mut **tx)
        .await?;
    let credentials = IssuedCredentials {
        api_key,
        client_id: application.client_id.clone(),
        client_secret,
        webhook_secret,
        default_workflow_id,
    };
    Ok((application, credentials))
}

async fn insert_api_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    application_id: ApplicationId,
    name: &str,
    api_key: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_keys (id, application_id, name, prefix, digest, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(ApiKeyId::random().to_string())
    .bind(application_id.to_string())
    .bind(name)
    .bind(&api_key[..6])
    .bind(digest(api_key))
    .bind(Timestamp::now().micros())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The oldest organization, if any (the one the first start created).
    pub async fn first_organization(&self) -> Result<Option<Organization>> {
        let row = sqlx::query(&format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations ORDER BY created_at LIMIT 1"
        ))
        .fetch_optional(&self.db.read)
        .await?;
        row.as_ref().map(organization_from_row).transpose()
    }
}

impl Store {
    /// OAuth client-credentials check: the application whose client id matches and whose secret
    /// digest equals the presented secret's, compared in constant time.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Option<Application>> {
        let row = sqlx::query(
            "SELECT id, organization_id, name, environment, client_id, client_secret_digest FROM applications WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.db.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: String = row.try_get("client_secret_digest")?;
        if !digests_match(&stored, &digest(client_secret)) {
            return Ok(None);
        }
        Ok(Some(application_from_row(&row)?))
    }

    /// A server-wide secret (for example the token signing key), sealed under the master key.
    /// The first caller's `generate` wins; concurrent processes all read back the same value.
    pub async fn server_secret(
        &self,
        name: &str,
        generate: impl FnOnce() -> Vec<u8>,
    ) -> Result<Vec<u8>> {
        let existing: Option<String> =
            sqlx::query_scalar("SELECT state_value FROM server_state WHERE state_key = $1")
                .bind(name)
                .fetch_optional(&self.db.read)
                .await?;
        if let Some(sealed) = existing {
            return Ok(self.sealer.open(&sealed)?);
        }
        sqlx::query("INSERT INTO server_state (state_key, state_value) VALUES ($1, $2) ON CONFLICT (state_key) DO NOTHING")
            .bind(name)
            .bind(self.sealer.seal(&generate()))
            .execute(&self.db.write)
            .await?;
        let sealed: String =
            sqlx::query_scalar("SELECT state_value FROM server_state WHERE state_key = $1")
                .bind(name)
                .fetch_one(&self.db.write)
                .await?;
        Ok(self.sealer.open(&sealed)?)
    }
}

impl Store {
    /// An application's branding (Verity's defaults when it has none).
    pub async fn branding(&self, app: ApplicationId) -> Result<Branding> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT branding FROM applications WHERE id = $1")
                .bind(app.to_string())
                .fetch_optional(&self.db.read)
                .await?
                .ok_or_else(not_found)?;
        match text {
            Some(text) => Ok(serde_json::from_str(&text)?),
            None => Ok(Branding::default()),
        }
    }

    /// Replaces an application's branding: `uploads` are stored first, then the record, then
    /// the objects of images that were replaced or removed are deleted.
    pub async fn save_branding(
        &self,
        app: ApplicationId,
        mut branding: Branding,
        uploads: Vec<(BrandImage, CheckedCapture)>,
    ) -> Result<Branding> {
        let previous = self.branding(app).await?;
        for (kind, image) in uploads {
            let version = uuid::Uuid::new_v4().simple().to_string();
            let object_key = format!("{app}/branding/{}-{version}", kind.as_str());
            self.media.put(&object_key, image.bytes).await?;
            branding.images.insert(
                kind,
                StoredBrandImage {
                    object_key,
                    content_type: image.content_type.to_owned(),
                    version,
                },
            );
        }
        sqlx::query("UPDATE applications SET branding = $1 WHERE id = $2")
            .bind(serde_json::to_string(&branding)?)
            .bind(app.to_string())
            .execute(&self.db.write)
            .await?;
        for (kind, old) in &previous.images {
            if branding.images.get(kind) != Some(old) {
                self.media.delete(&old.object_key).await?;
            }
        }
        Ok(branding)
    }
}
