//! A real SMTP server (mailin-embedded) on 127.0.0.1 for the tests that read mailed codes.

use mailin_embedded::{response, Handler, Response, Server, SslConfig};
use std::sync::{Arc, Mutex};
use verity_api::mail::{SmtpConfig, SmtpTls};

/// A message the SMTP server accepted.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub recipients: Vec<String>,
    pub data: String,
}

#[derive(Clone, Default)]
pub struct Inbox(pub Arc<Mutex<Vec<Delivered>>>);

impl Inbox {
    pub fn messages_to(&self, address: &str) -> Vec<Delivered> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.recipients.iter().any(|r| r == address))
            .cloned()
            .collect()
    }

    /// The six characters after `marker` in the latest message to `address`.
    pub fn latest_after(&self, address: &str, marker: &str) -> String {
        let messages = self.messages_to(address);
        let message = messages.last().expect("a message to the address");
        let start = message.data.find(marker).expect("marker in the message") + marker.len();
        message.data[start..start + 6].to_owned()
    }

    /// The six characters before `marker` in the latest message to `address`.
    pub fn latest_before(&self, address: &str, marker: &str) -> String {
        let messages = self.messages_to(address);
        let message = messages.last().expect("a message to the address");
        let end = message.data.find(marker).expect("marker in the message");
        message.data[end - 6..end].to_owned()
    }

    /// Waits for a message to `address` (ownership codes are mailed off the request path, a
    /// moment after the answer), then reads the latest one like [`Inbox::latest_before`].
    pub async fn code_before(&self, address: &str, marker: &str) -> String {
        crate::helpers::eventually(&format!("a message to {address}"), || async {
            !self.messages_to(address).is_empty()
        })
        .await;
        self.latest_before(address, marker)
    }

    /// The code of the latest message to `address`. The server answers only after the relay
    /// accepted the message, so it is already here.
    pub fn latest_code(&self, address: &str) -> String {
        self.latest_after(address, "verification code is ")
    }
}

/// Records each message; mailin clones the handler per connection.
#[derive(Clone)]
struct Recorder {
    inbox: Inbox,
    recipients: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Recorder {
    fn data_start(&mut self, _domain: &str, _from: &str, _8bit: bool, to: &[String]) -> Response {
        self.recipients = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.inbox.0.lock().unwrap().push(Delivered {
            recipients: std::mem::take(&mut self.recipients),
            data: String::from_utf8_lossy(&self.data).into_owned(),
        });
        response::OK
    }
}

/// Starts an SMTP server on a free port of 127.0.0.1 (it lives as long as the test process).
pub fn start_smtp_server() -> (u16, Inbox) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Inbox::default();
    let mut server = Server::new(Recorder {
        inbox: inbox.clone(),
        recipients: Vec::new(),
        data: Vec::new(),
    });
    server
        .with_name("mail.verity.test")
        .with_ssl(SslConfig::None)
        .unwrap()
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        // Serves until the test process exits; an error would surface as undelivered mail.
        let _ = server.serve();
    });
    (port, inbox)
}

pub fn smtp_config(port: u16) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: SmtpTls::None,
        username: None,
        password: None,
        from: "Verity <no-reply@verity.test>".into(),
        timeout_seconds: 5,
    }
}
