use crate::error::Result;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Connection pools. On SQLite, writes go through a single connection so that concurrent writers
/// queue fairly in the pool instead of spinning in SQLite's busy handler (which sleeps in steps of
/// up to 100 ms and would ruin tail latency); reads use several connections, which WAL allows to
/// run alongside the writer. On PostgreSQL both handles are the same pool.
#[derive(Clone)]
pub struct Db {
    pub(crate) read: AnyPool,
    pub(crate) write: AnyPool,
    pub dialect: Dialect,
}

impl Db {
    /// Connects to `sqlite://path` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Self {
                read: pool.clone(),
                write: pool,
                dialect: Dialect::Postgres,
            });
        }
        let Some(path) = url.strip_prefix("sqlite://") else {
            return Err(anyhow::anyhow!(
                "unsupported database URL (expected sqlite://PATH or postgres://…)"
            )
            .into());
        };
        if let Some(parent) = std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
        {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(anyhow::Error::from)?;
            }
        }
        let url = if url.contains('?') {
            url.to_owned()
        } else {
            format!("{url}?mode=rwc")
        };
        let options = || {
            AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA busy_timeout = 5000",
                            "PRAGMA foreign_keys = ON",
                        ] {
                            conn.execute(pragma).await?;
                        }
                        Ok(())
                    })
                })
        };
        let write = options().max_connections(1).connect(&url).await?;
        let read = options().max_connections(8).connect(&url).await?;
        Ok(Self {
            read,
            write,
            dialect: Dialect::Sqlite,
        })
    }

    /// Applies the embedded migrations (idempotent; PostgreSQL serialises concurrent runs with an
    /// advisory lock).
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.write).await?;
        Ok(())
    }

    /// `true` when the database answers a trivial query (health checks).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}
