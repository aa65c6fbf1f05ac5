//! Wiring: opens storage from the configuration, bootstraps a fresh database, serves the API and
//! runs the background sweeps until shutdown.

use crate::config::Config;
use anyhow::Context;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;
use verity_api::extract::TrustedProxies;
use verity_api::mail::Mailer;
use verity_api::oauth::{TokenIssuer, SIGNING_KEY_NAME};
use verity_api::{ApiConfig, AppState};
use verity_pipeline::aml::AmlSync;
use verity_pipeline::{LoadedEngines, Worker, WorkerConfig};
use verity_store::{Application, Db, IssuedCredentials, MediaStore, Organization, Sealer, Store};
use verity_webhooks::{DeliveryClient, DeliveryConfig, Dispatcher, DispatcherConfig};

/// What the very first start created; its secrets exist nowhere else.
pub struct FirstStart {
    pub organization: Organization,
    pub applications: Vec<(Application, IssuedCredentials)>,
}

pub struct Server {
    pub config: Config,
    pub store: Store,
    pub first_start: Option<FirstStart>,
}

/// Connects to the database and media store and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let master_key = config.master_key()?;
    let db = Db::connect(&config.database_url())
        .await
        .context("connecting to the database")?;
    db.migrate().await.context("applying migrations")?;
    let media = MediaStore::from_url(&config.media_url()).context("opening the media store")?;
    Ok(Store::new(db, media, Sealer::new(&master_key)))
}

impl Server {
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let store = open_store(&config).await?;
        let first_start = store
            .bootstrap_if_empty()
            .await?
            .map(|(organization, applications)| FirstStart {
                organization,
                applications,
            });
        Ok(Self {
            config,
            store,
            first_start,
        })
    }

    /// The public base URL: configured, or derived from the bound address.
    pub fn public_url(&self, listener: &TcpListener) -> anyhow::Result<String> {
        Ok(match &self.config.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", listener.local_addr()?),
        })
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests finish
    /// and stops the background sweep.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let public_url = self.public_url(&listener)?;
        let signing_key = self
            .store
            .server_secret(SIGNING_KEY_NAME, TokenIssuer::generate_key)
            .await?;
        let tokens =
            TokenIssuer::from_pkcs8(&signing_key, &public_url, self.config.token_ttl_seconds)?;
        let webhook_client = DeliveryClient::new(DeliveryConfig {
            timeout: Duration::from_secs(self.config.webhooks.timeout_seconds.max(1)),
            ssrf: self.config.webhooks.ssrf_policy(),
            ..DeliveryConfig::default()
        })?;
        let mailer = match &self.config.smtp {
            Some(smtp) => {
                tracing::info!(host = %smtp.host, port = smtp.port, tls = ?smtp.tls, "mail: verification codes go through this SMTP relay");
                Some(Mailer::new(smtp).context("invalid [smtp] configuration")?)
            }
            None => {
                tracing::warn!(
                    "mail is DISABLED: no [smtp] relay is configured (VERITY_SMTP__HOST, VERITY_SMTP__FROM, …), \
                     so programmatic registration cannot send verification codes and \
                     POST /auth/v2/programmatic/register/ answers 503"
                );
                None
            }
        };
        // Model loading is CPU-bound (graph optimisation), so it runs off the async threads.
        let engine_settings = self.config.engines.settings();
        let engines = tokio::task::spawn_blocking(move || LoadedEngines::load(&engine_settings))
            .await
            .context("loading the verification engines panicked")?
            .with_store(self.store.clone());
        let state = AppState::new(
            self.store.clone(),
            ApiConfig {
                public_url: public_url.clone(),
                max_body_bytes: self.config.max_body_bytes,
                rate_limits: self.config.rate_limits.clone(),
                key_cache_ttl: Duration::from_secs(self.config.key_cache_seconds),
                accounts: self.config.accounts.clone(),
                trusted_proxies: TrustedProxies::parse(&self.config.http.trusted_proxies)
                    .map_err(|reason| anyhow::anyhow!("http.trusted_proxies: {reason}"))?,
                request_timeout: Duration::from_secs(
                    self.config.http.request_timeout_seconds.max(1),
                ),
                allow_http_callbacks: self.config.callbacks.allow_http,
                trusted_issuers: self.config.data_transfer.trusted_issuers.clone(),
                max_webhook_destinations: self.config.webhooks.max_destinations,
                standalone_face_concurrency: self.config.engines.standalone_face_concurrency,
                standalone_face_wait: Duration::from_millis(
                    self.config.engines.standalone_face_wait_ms,
                ),
            },
            tokens,
            webhook_client.clone(),
            mailer,
            engines.clone(),
        );
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let sweep = tokio::spawn(expiry_sweep(
            self.store.clone(),
            Duration::from_secs(self.config.expiry_sweep_seconds.max(1)),
            Duration::from_secs(self.config.abandon_after_inactive_seconds.max(1)),
            stop_rx.clone(),
        ));
        // AML datasets are installed from the database (at start, then every poll) and new
        // versions are monitored, off the request path.
        let aml_sync = tokio::spawn(AmlSync::new(self.store.clone(), engines.aml.clone()).run(
            Duration::from_secs(self.config.aml.poll_seconds.max(1)),
            stop_rx.clone(),
        ));
        let worker_public_url = public_url.clone();
        let webhooks = &self.config.webhooks;
        let dispatcher = webhooks.dispatch.then(|| {
            let timeout = Duration::from_secs(webhooks.timeout_seconds.max(1));
            tokio::spawn(
                Dispatcher::new(
                    self.store.clone(),
                    webhook_client,
                    DispatcherConfig {
                        schedule: webhooks.schedule(),
                        concurrency: webhooks.concurrency.max(1),
                        per_destination: webhooks.per_destination_concurrency.max(1),
                        poll_interval: Duration::from_millis(webhooks.poll_interval_ms.max(10)),
                        delivery_timeout: timeout,
                        public_url,
                    },
                )
                .run(stop_rx.clone()),
            )
        });
        let processing = &self.config.processing;
        let worker = processing.run.then(|| {
            tokio::spawn(
                Worker::new(
                    self.store.clone(),
                    // Live sessions park at their first step whose engine is not loaded.
                    engines.node_runners(),
                    WorkerConfig {
                        concurrency: processing.concurrency.max(1),
                        poll_interval: Duration::from_millis(processing.poll_interval_ms.max(10)),
                        lease: Duration::from_secs(processing.lease_seconds.max(1)),
                        public_url: worker_public_url,
                        sandbox_delay: Duration::from_millis(processing.sandbox_delay_ms),
                    },
                )
                .run(stop_rx.clone()),
            )
        });
        let header_timeout = Duration::from_secs(self.config.http.header_timeout_seconds.max(1));
        serve(
            listener,
            verity_api::router(state),
            header_timeout,
            shutdown,
        )
        .await;
        let _ = stop_tx.send(true);
        let _ = sweep.await;
        let _ = aml_sync.await;
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        if let Some(dispatcher) = dispatcher {
            let _ = dispatcher.await;
        }
        self.store.db.close().await;
        Ok(())
    }
}

/// Serves HTTP/1.1 until `shutdown` completes, then stops accepting and lets in-flight requests
/// finish. A connection that does not send a request's line and headers within `header_timeout`
/// is closed (hyper enforces it given a timer; `axum::serve` sets none, so a client sending
/// headers byte by byte could hold a connection forever). Each request carries its peer address
/// as `ConnectInfo`, which `ClientIp` reads.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(error = %error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout);
        let connection = connections.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
}

/// Moves expired and inactive sessions on a fixed period. Errors are logged and retried next
/// period.
async fn expiry_sweep(
    store: Store,
    period: Duration,
    inactivity_limit: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match store.expire_sessions(verity_domain::Timestamp::now(), inactivity_limit).await {
                    Ok(0) => {}
                    Ok(moved) => tracing::info!(moved, "expired sessions"),
                    Err(error) => tracing::warn!(error = %error, "expiry sweep failed"),
                }
            }
            _ = stop.changed() => break,
        }
    }
}

/// The credentials block printed once on first start.
pub fn describe_first_start(first: &FirstStart, public_url: &str) -> String {
    let mut out = String::new();
    out.push_str("\n================================================================\n");
    out.push_str(&format!(
        " First start: created organization \"{}\" ({}).\n",
        first.organization.name, first.organization.id
    ));
    out.push_str(" These secrets are shown ONCE. Verity stores only their digests\n");
    out.push_str(" (the webhook secret is kept sealed under the master key).\n");
    for (app, credentials) in &first.applications {
        out.push_str(&describe_credentials(app, credentials));
    }
    out.push_str(&format!(
        "\n Try it:\n   curl -H 'x-api-key: <API key>' {public_url}/v3/workflows/\n"
    ));
    out.push_str("================================================================\n");
    out
}

pub fn describe_credentials(app: &Application, credentials: &IssuedCredentials) -> String {
    format!(
        "\n [{env}] {name}\n   application id        {id}\n   API key (x-api-key)   {key}\n   OAuth client id       {client_id}\n   OAuth client secret   {secret}\n   webhook secret        {webhook}\n   default workflow id   {workflow}\n",
        env = app.environment.as_str(),
        name = app.name,
        id = app.id,
        key = credentials.api_key,
        client_id = credentials.client_id,
        secret = credentials.client_secret,
        webhook = credentials.webhook_secret,
        workflow = credentials.default_workflow_id,
    )
}
