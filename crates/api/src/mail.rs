//! Outgoing mail: the e-mail verification code of programmatic registration, sent through the
//! configured SMTP relay (lettre on tokio, TLS by rustls). Neither the code nor the recipient
//! ever reaches a log: failures are logged by kind and SMTP status code only, because a relay's
//! error text often quotes the address.

use crate::error::ApiError;
use anyhow::{bail, Context};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;
use verity_domain::account::Email;

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (default port 25): only for a relay on this host or a trusted network.
    None,
    /// STARTTLS, refusing to go on without it (default port 587).
    #[default]
    Starttls,
    /// TLS from the first byte, "SMTPS" (default port 465).
    Tls,
}

/// The `[smtp]` configuration section.
#[derive(Clone, Serialize, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    /// Defaults by `tls`: 25, 587 or 465.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Sender: `no-reply@example.org` or `Verity <no-reply@example.org>`.
    pub from: String,
    /// Limit on each SMTP command, so a stalled relay cannot hold a request for long.
    #[serde(default = "SmtpConfig::default_timeout_seconds")]
    pub timeout_seconds: u64,
}

impl SmtpConfig {
    fn default_timeout_seconds() -> u64 {
        15
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// Checks the configuration and prepares the transport; no connection is made until a
    /// message is sent.
    pub fn new(config: &SmtpConfig) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .from
            .parse()
            .context("smtp.from is not an e-mail address")?;
        let builder = match config.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host).port(25)
            }
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)?,
        };
        let mut builder = builder.timeout(Some(Duration::from_secs(config.timeout_seconds)));
        if let Some(port) = config.port {
            builder = builder.port(port);
        }
        match (&config.username, &config.password) {
            (Some(username), Some(password)) => {
                builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
            }
            (None, None) => {}
            _ => bail!("smtp.username and smtp.password must be given together"),
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    pub async fn send_verification_code(
        &self,
        to: &Email,
        code: &str,
        valid_for_seconds: i64,
    ) -> Result<(), ApiError> {
        let body = format!(
            "Your verification code is {code}\r\n\r\nIt expires in {}.\r\n\
             If you did not ask for it, you can ignore this message.\r\n",
            describe_duration(valid_for_seconds)
        );
        self.send(to, "Your verification code", body, "verification")
            .await
    }

    /// The ownership code of a data-transfer session; `subject` and `body` come from the page's
    /// translations, already filled in.
    pub async fn send_transfer_code(
        &self,
        to: &Email,
        subject: &str,
        body: String,
    ) -> Result<(), ApiError> {
        self.send(to, subject, body, "data-transfer").await
    }

    /// Sends a plain-text message; `what` names the kind of message in the log, which never
    /// shows the recipient or the body.
    async fn send(
        &self,
        to: &Email,
        subject: &str,
        body: String,
        what: &'static str,
    ) -> Result<(), ApiError> {
        let recipient = to.as_str().parse().map_err(|_| {
            tracing::warn!(
                what,
                "e-mail not sent: the mail builder refused the recipient"
            );
            ApiError::MailDelivery
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, recipient))
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .context("building an e-mail")?;
        self.transport.send(message).await.map_err(|error| {
            let kind = if error.is_timeout() {
                "timeout"
            } else if error.is_tls() {
                "tls"
            } else if error.is_permanent() {
                "permanent rejection"
            } else if error.is_transient() {
                "transient rejection"
            } else {
                "connection or protocol"
            };
            let status = error.status().map(|code| code.to_string());
            tracing::warn!(what, kind, status, "e-mail not sent");
            ApiError::MailDelivery
        })?;
        Ok(())
    }
}

/// `10 minutes`, `1 minute`, `90 seconds`.
pub fn describe_duration(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if seconds % 60 == 0 {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(tls: SmtpTls) -> SmtpConfig {
        SmtpConfig {
            host: "mail.example.org".into(),
            port: None,
            tls,
            username: None,
            password: None,
            from: "Verity <no-reply@example.org>".into(),
            timeout_seconds: 5,
        }
    }

    #[test]
    fn every_tls_mode_builds_and_bad_settings_are_refused() {
        for tls in [SmtpTls::None, SmtpTls::Starttls, SmtpTls::Tls] {
            assert!(Mailer::new(&config(tls)).is_ok(), "{tls:?}");
        }
        let bad_from = SmtpConfig {
            from: "not an address".into(),
            ..config(SmtpTls::Starttls)
        };
        assert!(Mailer::new(&bad_from).is_err());
        let half_credentials = SmtpConfig {
            username: Some("user".into()),
            ..config(SmtpTls::Starttls)
        };
        assert!(Mailer::new(&half_credentials).is_err());
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let with_password = SmtpConfig {
            username: Some("user".into()),
            password: Some("hunter2".into()),
            ..config(SmtpTls::Tls)
        };
        let shown = format!("{with_password:?}");
        assert!(!shown.contains("hunter2") && shown.contains("<redacted>"));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(describe_duration(600), "10 minutes");
        assert_eq!(describe_duration(60), "1 minute");
        assert_eq!(describe_duration(90), "90 seconds");
        assert_eq!(describe_duration(1), "1 second");
    }
}
