//! Configuration, layered: built-in defaults < `verity.toml` < `VERITY_*` environment < flags.
//! Nested keys use `__` in the environment (`VERITY_RATE_LIMITS__ENABLED=false`).

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use verity_api::mail::SmtpConfig;
use verity_api::RateLimits;
use verity_domain::account::AccountPolicy;
use verity_domain::data_transfer::TrustedIssuers;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Zero configuration: a master key is generated under the data directory.
    Development,
    /// Refuses to start unless every secret is provided explicitly.
    Production,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    pub mode: Mode,
    /// Address the HTTP server binds.
    pub listen: String,
    /// Base of session links and pagination URLs; defaults to `http://<listen address>`.
    pub public_url: Option<String>,
    /// Where the embedded database, media and the development master key live.
    pub data_dir: PathBuf,
    /// `sqlite://…` (default: `<data_dir>/verity.db`) or `postgres://…`.
    pub database_url: Option<String>,
    /// `file:///dir` (default: `<data_dir>/media`) or `s3://bucket/prefix`.
    pub media_url: Option<String>,
    /// 32 bytes, hex or base64. Seals stored secrets such as webhook signing keys.
    pub master_key: Option<String>,
    pub max_body_bytes: usize,
    /// How often sessions past their expiry are moved to Expired / Abandoned.
    pub expiry_sweep_seconds: u64,
    /// An `In Progress` session whose person has not opened the page, started or uploaded for
    /// this long becomes `Abandoned` (Didit does not document its timer; an hour lets a person
    /// fetch a document or switch devices).
    pub abandon_after_inactive_seconds: u64,
    /// How long an API-key lookup is cached in memory.
    pub key_cache_seconds: u64,
    /// Lifetime of OAuth client and console user access tokens (`expires_in`).
    pub token_ttl_seconds: i64,
    pub rate_limits: RateLimits,
    pub webhooks: WebhookConfig,
    /// The processing worker that runs submitted sessions' workflows.
    pub processing: ProcessingConfig,
    /// Where the verification engines find their model files.
    pub engines: EnginesConfig,
    /// AML datasets: how often this process looks for newly imported versions.
    pub aml: AmlConfig,
    /// The relay that sends e-mail verification codes; without it registration answers 503.
    pub smtp: Option<SmtpConfig>,
    /// Programmatic registration: code lifetime, resend cooldown, per-IP budget.
    pub accounts: AccountPolicy,
    /// The HTTP server: trusted reverse proxies and timeouts.
    pub http: HttpConfig,
    /// Where the hosted page may send the person back to (`callback`).
    pub callbacks: CallbackConfig,
    /// Data transfer: whose verified identities may be shared.
    pub data_transfer: DataTransferConfig,
    /// Log filter (`RUST_LOG` syntax).
    pub log: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mode: Mode::Development,
            listen: "127.0.0.1:8000".into(),
            public_url: None,
            data_dir: PathBuf::from("verity-data"),
            database_url: None,
            media_url: None,
            master_key: None,
            max_body_bytes: 4 * 1024 * 1024,
            expiry_sweep_seconds: 30,
            abandon_after_inactive_seconds: 3600,
            key_cache_seconds: 5,
            token_ttl_seconds: 86_400,
            rate_limits: RateLimits::default(),
            webhooks: WebhookConfig::default(),
            processing: ProcessingConfig::default(),
            engines: EnginesConfig::default(),
            aml: AmlConfig::default(),
            smtp: None,
            accounts: AccountPolicy::default(),
            http: HttpConfig::default(),
            callbacks: CallbackConfig::default(),
            data_transfer: DataTransferConfig::default(),
            log: "info".into(),
        }
    }
}

/// The retry schedules a deployment can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryPreset {
    /// Didit's: 3 attempts, ≈1 min then ≈4 min after failures.
    Didit,
    /// 9 attempts over up to ~45 h with full jitter: survives receiver outages of hours.
    Extended,
}

/// Webhook delivery (`[webhooks]` in verity.toml, `VERITY_WEBHOOKS__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookConfig {
    /// Run the dispatcher in this process (every process may; they share the outbox).
    pub dispatch: bool,
    /// Accept `http://` destinations (default: https only).
    pub allow_http: bool,
    /// Comma-separated CIDRs, IPs or host names accepted although not public
    /// (e.g. `"10.0.0.0/8, hooks.internal"`). Everything private is refused otherwise.
    pub allow_private: String,
    pub timeout_seconds: u64,
    pub retry_schedule: RetryPreset,
    /// Replaces the preset: exact delays between attempts, in seconds, without jitter.
    pub retry_delays_seconds: Option<Vec<u64>>,
    /// Deliveries in flight per process, and of those at most this many per destination.
    pub concurrency: usize,
    pub per_destination_concurrency: usize,
    /// How often the outbox is polled for other processes' events and due retries.
    pub poll_interval_ms: u64,
    /// Destinations an application may have (the legacy one included): each session event is
    /// delivered to every one of them.
    pub max_destinations: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            dispatch: true,
            allow_http: false,
            allow_private: String::new(),
            timeout_seconds: 5,
            retry_schedule: RetryPreset::Didit,
            retry_delays_seconds: None,
            concurrency: 64,
            per_destination_concurrency: 16,
            poll_interval_ms: 500,
            max_destinations: 20,
        }
    }
}

impl WebhookConfig {
    pub fn schedule(&self) -> verity_webhooks::RetrySchedule {
        use verity_webhooks::{Jitter, RetrySchedule};
        match (&self.retry_delays_seconds, self.retry_schedule) {
            (Some(delays), _) => RetrySchedule::new(
                delays
                    .iter()
                    .copied()
                    .map(std::time::Duration::from_secs)
                    .collect(),
                Jitter::None,
            ),
            (None, RetryPreset::Didit) => RetrySchedule::didit(),
            (None, RetryPreset::Extended) => RetrySchedule::extended(),
        }
    }

    pub fn ssrf_policy(&self) -> verity_webhooks::SsrfPolicy {
        verity_webhooks::SsrfPolicy {
            allow_http: self.allow_http,
            ..verity_webhooks::SsrfPolicy::strict()
        }
        .with_allow_list(&self.allow_private)
    }
}

/// Session processing (`[processing]` in verity.toml, `VERITY_PROCESSING__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessingConfig {
    /// Run the worker in this process (any number of processes may; they share the queue).
    pub run: bool,
    /// Jobs processed at once per process.
    pub concurrency: usize,
    /// How often the queue is polled for other processes' submits and expired leases.
    pub poll_interval_ms: u64,
    /// A claimed job is taken over by another worker after this long without progress.
    pub lease_seconds: u64,
    /// Simulated engine latency per sandbox step, in milliseconds (0: none).
    pub sandbox_delay_ms: u64,
}

impl Default for ProcessingConfig {
    fn default() -> Self {
        Self {
            run: true,
            concurrency: 4,
            poll_interval_ms: 500,
            lease_seconds: 30,
            sandbox_delay_ms: 0,
        }
    }
}

/// Verification engines (`[engines]` in verity.toml, `VERITY_ENGINES__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EnginesConfig {
    /// Root of the model folders written by `scripts/fetch-models` (relative to the working
    /// directory unless absolute).
    pub models_dir: PathBuf,
    /// Images the standalone face APIs decode and analyse at once (0: one per CPU).
    pub standalone_face_concurrency: usize,
    /// How long a standalone face call waits for its turn before it is answered 503.
    pub standalone_face_wait_ms: u64,
}

impl Default for EnginesConfig {
    fn default() -> Self {
        Self {
            models_dir: PathBuf::from("models"),
            standalone_face_concurrency: 0,
            standalone_face_wait_ms: 5000,
        }
    }
}

impl EnginesConfig {
    pub fn settings(&self) -> verity_pipeline::EngineSettings {
        verity_pipeline::EngineSettings {
            models_dir: self.models_dir.clone(),
        }
    }
}

/// AML screening (`[aml]` in verity.toml, `VERITY_AML__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AmlConfig {
    /// How often this process checks the database for dataset versions imported by
    /// `verity aml import` (then installs them and runs ongoing monitoring).
    pub poll_seconds: u64,
}

impl Default for AmlConfig {
    fn default() -> Self {
        Self { poll_seconds: 30 }
    }
}

/// The HTTP server (`[http]` in verity.toml, `VERITY_HTTP__*`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpConfig {
    /// Reverse proxies (IPs or CIDRs, e.g. `["127.0.0.1", "10.0.0.0/8"]`) whose
    /// `X-Forwarded-For` names the client. Empty: the TCP peer is the client and the header is
    /// ignored.
    pub trusted_proxies: Vec<String>,
    /// A connection that has not sent a request's line and headers within this is closed.
    pub header_timeout_seconds: u64,
    /// A request not answered within this (its body read included) is answered 408. Long enough
    /// for a 15 MB upload at 1 Mbit/s.
    pub request_timeout_seconds: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            header_timeout_seconds: 30,
            request_timeout_seconds: 120,
        }
    }
}

/// Session callbacks (`[callbacks]` in verity.toml, `VERITY_CALLBACKS__*`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CallbackConfig {
    /// Accept `http://` callbacks to any host (default: https, and http only to loopback
    /// hosts). Custom schemes are accepted only when the application registers them in its
    /// `redirect_uris`.
    pub allow_http: bool,
}

/// Data transfer (`[data_transfer]` in verity.toml, `VERITY_DATA_TRANSFER__*`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DataTransferConfig {
    /// Organizations (ids) whose verified identities any business of this server may receive.
    /// Empty: a business receives only identities verified by its own organization
    /// (docs/data-transfer.md).
    pub trusted_issuers: TrustedIssuers,
}

/// Values given as command-line flags; only those present override the other layers.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// The file's keys that are no setting, each with the nearest setting's name: a misspelt key
/// would otherwise be ignored and its default used without a word. `effective` is the loaded
/// configuration as JSON, whose objects list every setting of their section.
fn unknown_keys(file: &toml::Table, effective: &serde_json::Value, prefix: &str) -> Vec<String> {
    let Some(known) = effective.as_object() else {
        return Vec::new();
    };
    let mut unknown = Vec::new();
    for (key, value) in file {
        let path = format!("{prefix}{key}");
        match (known.get(key), value) {
            (Some(section), toml::Value::Table(table)) => {
                unknown.extend(unknown_keys(table, section, &format!("{path}.")));
            }
            (Some(_), _) => {}
            (None, _) => {
                let nearest = known
                    .keys()
                    .min_by_key(|candidate| strsim_distance(key, candidate))
                    .map(|n| format!(" (did you mean `{prefix}{n}`?)"))
                    .unwrap_or_default();
                unknown.push(format!("`{path}`{nearest}"));
            }
        }
    }
    unknown
}

/// Levenshtein distance between two setting names.
fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Self> {
        if let Some(named) = file {
            if !named.is_file() {
                bail!("configuration file {} does not exist", named.display());
            }
        }
        let file = file.unwrap_or(Path::new("verity.toml"));
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            // Figment types environment values (`00…0` would become a number), so secrets are
            // read verbatim below instead.
            // (`ignore` sees the names as they are when it is applied: before `split`.)
            .merge(
                Env::prefixed("VERITY_")
                    .ignore(&["MASTER_KEY", "SMTP__PASSWORD"])
                    .split("__"),
            )
            .merge(Serialized::defaults(overrides))
            .extract()
            .context("invalid configuration")?;
        if let Ok(raw) = std::env::var("VERITY_MASTER_KEY") {
            config.master_key = Some(raw);
        }
        if let Ok(raw) = std::env::var("VERITY_SMTP__PASSWORD") {
            let Some(smtp) = config.smtp.as_mut() else {
                bail!("VERITY_SMTP__PASSWORD is set but smtp.host and smtp.from are not");
            };
            smtp.password = Some(raw);
        }
        if file.is_file() {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let table: toml::Table =
                toml::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
            let unknown = unknown_keys(&table, &serde_json::to_value(&config)?, "");
            if !unknown.is_empty() {
                bail!(
                    "unknown setting in {}: {}",
                    file.display(),
                    unknown.join(", ")
                );
            }
        }
        Ok(config)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("verity.db").display()))
    }

    pub fn media_url(&self) -> String {
        self.media_url.clone().unwrap_or_else(|| {
            let dir = self.data_dir.join("media");
            let absolute = std::path::absolute(&dir).unwrap_or(dir);
            format!("file://{}", absolute.display())
        })
    }

    /// The master key. In development it is created on first use under the data directory
    /// (mode 0600); in production it must be configured, and a missing or weak key is fatal.
    pub fn master_key(&self) -> anyhow::Result<[u8; 32]> {
        if let Some(text) = &self.master_key {
            let key = parse_key(text).context("master_key must be 32 bytes as hex or base64")?;
            if self.mode == Mode::Production && is_weak(&key) {
                bail!(
                    "master_key is a placeholder value; generate one with `openssl rand -hex 32`"
                );
            }
            return Ok(key);
        }
        if self.mode == Mode::Production {
            bail!("production mode requires VERITY_MASTER_KEY (32 random bytes, hex or base64); refusing to start");
        }
        let path = self.data_dir.join("master.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            return parse_key(text.trim())
                .with_context(|| format!("{} is not a valid key", path.display()));
        }
        std::fs::create_dir_all(&self.data_dir)?;
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        write_private(&path, &hex::encode(key))?;
        Ok(key)
    }
}

fn parse_key(text: &str) -> anyhow::Result<[u8; 32]> {
    use base64::Engine as _;
    let bytes = hex::decode(text)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text))
        .context("neither hex nor base64")?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| anyhow::anyhow!("expected 32 bytes, got {}", b.len()))
}

/// All-equal bytes or an ascending run: the shapes placeholder keys take.
fn is_weak(key: &[u8; 32]) -> bool {
    key.iter().all(|&b| b == key[0]) || key.iter().enumerate().all(|(i, &b)| b as usize == i)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    std::fs::write(path, contents)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_missing_or_placeholder_keys() {
        let mut config = Config {
            mode: Mode::Production,
            ..Config::default()
        };
        assert!(config.master_key().is_err());
        config.master_key = Some("00".repeat(32));
        assert!(config.master_key().is_err());
        config.master_key = Some(hex::encode((0u8..32).collect::<Vec<_>>()));
        assert!(config.master_key().is_err());
        config.master_key = Some("ab".repeat(16));
        assert!(config.master_key().is_err(), "16 bytes is too short");
        let good = "3f9a0c51d2e47b8861f0aa93c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7";
        config.master_key = Some(good.into());
        assert_eq!(hex::encode(config.master_key().unwrap()), good);
    }

    #[test]
    fn development_generates_and_reuses_a_private_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_owned(),
            ..Config::default()
        };
        let first = config.master_key().unwrap();
        assert_eq!(config.master_key().unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("verity.toml", "listen = \"127.0.0.1:9000\"\npublic_url = \"https://file.example\"\n[rate_limits]\ngeneric_get = 5\n")?;
            jail.set_env("VERITY_PUBLIC_URL", "https://env.example");
            jail.set_env("VERITY_RATE_LIMITS__ENABLED", "false");
            jail.set_env("VERITY_MASTER_KEY", "1234567890".repeat(6) + "1234");
            let overrides = Overrides {
                listen: Some("127.0.0.1:9100".into()),
                ..Overrides::default()
            };
            let config = Config::load(None, &overrides).expect("loads");
            assert_eq!(config.listen, "127.0.0.1:9100");
            assert_eq!(config.public_url.as_deref(), Some("https://env.example"));
            assert_eq!(config.rate_limits.generic_get, 5);
            assert!(!config.rate_limits.enabled);
            assert_eq!(config.rate_limits.generic_write, 300);
            assert_eq!(
                config.master_key.as_deref().map(str::len),
                Some(64),
                "digits-only hex stays a string"
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn a_missing_file_and_unknown_keys_are_errors_that_name_the_fix() {
        figment::Jail::expect_with(|jail| {
            let missing = Config::load(Some(Path::new("nowhere.toml")), &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(missing.contains("nowhere.toml does not exist"), "{missing}");
            jail.create_file(
                "verity.toml",
                "lisen = \"127.0.0.1:9000\"\n[processing]\nsandbox_delay = 5\n[smtp]\nhost = \"h\"\nfrom = \"a@b.c\"\n",
            )?;
            let unknown = format!(
                "{:#}",
                Config::load(Some(Path::new("verity.toml")), &Overrides::default()).unwrap_err()
            );
            assert!(
                unknown.contains("`lisen` (did you mean `listen`?)"),
                "{unknown}"
            );
            assert!(
                unknown.contains(
                    "`processing.sandbox_delay` (did you mean `processing.sandbox_delay_ms`?)"
                ),
                "{unknown}"
            );
            assert!(!unknown.contains("smtp"), "{unknown}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API fixes the closure's error type
    fn smtp_comes_from_the_environment_with_its_password_verbatim() {
        figment::Jail::expect_with(|jail| {
            assert!(Config::load(None, &Overrides::default())
                .unwrap()
                .smtp
                .is_none());
            jail.set_env("VERITY_SMTP__HOST", "smtp.example.org");
            jail.set_env("VERITY_SMTP__TLS", "tls");
            jail.set_env("VERITY_SMTP__USERNAME", "verity");
            jail.set_env("VERITY_SMTP__PASSWORD", "0123456789");
            assert!(
                Config::load(None, &Overrides::default()).is_err(),
                "a sender address is required"
            );
            jail.set_env("VERITY_SMTP__FROM", "Verity <no-reply@example.org>");
            jail.set_env("VERITY_ACCOUNTS__CODE_TTL_SECONDS", "900");
            let config = Config::load(None, &Overrides::default()).expect("loads");
            let smtp = config.smtp.expect("smtp configured");
            assert_eq!(smtp.host, "smtp.example.org");
            assert_eq!(smtp.tls, verity_api::mail::SmtpTls::Tls);
            assert_eq!(smtp.port, None);
            assert_eq!(smtp.password.as_deref(), Some("0123456789"));
            assert_eq!(smtp.timeout_seconds, 15);
            assert_eq!(config.accounts.code_ttl_seconds, 900);
            assert_eq!(config.accounts.resend_cooldown_seconds, 60);
            Ok(())
        });
    }
}
