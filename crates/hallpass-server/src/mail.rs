//! Mail: plain text and HTML messages that name the site, sent off the request path.
//!
//! With `HALLPASS_SMTP_URL`, messages go through SMTP (lettre: STARTTLS with `?tls=required`, TLS
//! with `smtps://`), retried with backoff; a message that still fails is logged (kind and
//! recipient domain, never the link) and the request that caused it is answered as if it had
//! gone, so nothing tells whether an address has an account. Without SMTP (development), each
//! message is written to the outbox folder as an `.eml` file and its link is logged.

use crate::config::EmailConfig;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// Messages allowed to wait; past that, new ones are logged as dropped.
const QUEUE: usize = 10_000;
/// Delivery attempts per message.
const ATTEMPTS: u32 = 5;

/// What a message is for (subject, wording, log lines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A password-reset link.
    ResetPassword,
    /// A link that verifies the address.
    VerifyEmail,
    /// A link, sent to a new address, that confirms a change of address.
    ChangeEmail,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::ResetPassword => "reset-password",
            Kind::VerifyEmail => "verify-email",
            Kind::ChangeEmail => "change-email",
        }
    }
}

/// A message to send.
#[derive(Clone, Debug)]
pub struct Mail {
    /// What it is for.
    pub kind: Kind,
    /// Recipient address.
    pub to: String,
    /// The recipient's name, for the greeting.
    pub name: String,
    /// The link it carries.
    pub link: String,
    /// How long the link works, in minutes.
    pub valid_minutes: i64,
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

/// The sending side: a bounded queue drained by one background task.
#[derive(Clone)]
pub struct Mailer {
    queue: mpsc::Sender<Mail>,
    site: String,
}

impl Mailer {
    /// Starts the background sender. Must run inside a tokio runtime.
    pub fn start(config: &EmailConfig) -> Result<Mailer, String> {
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("HALLPASS_SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            ),
            None => Transport::Outbox(config.outbox.clone()),
        };
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("HALLPASS_SMTP_FROM: {e}"))?;
        let (queue, rx) = mpsc::channel(QUEUE);
        let site = config.site_name.clone();
        tokio::spawn(run(rx, transport, from, site.clone()));
        Ok(Mailer { queue, site })
    }

    /// Queues a message; returns at once.
    pub fn send(&self, mail: Mail) {
        if let Err(e) = self.queue.try_send(mail) {
            let kind = match &e {
                mpsc::error::TrySendError::Full(m) | mpsc::error::TrySendError::Closed(m) => {
                    m.kind.name()
                }
            };
            tracing::error!(kind, "mail queue full or closed: message NOT sent");
        }
    }

    /// The site the messages name.
    pub fn site(&self) -> &str {
        &self.site
    }
}

async fn run(mut rx: mpsc::Receiver<Mail>, transport: Transport, from: Mailbox, site: String) {
    while let Some(mail) = rx.recv().await {
        let domain = mail.to.rsplit('@').next().unwrap_or("").to_owned();
        let message = match compose(&mail, &from, &site) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(kind = mail.kind.name(), error = %e, "cannot compose a message");
                continue;
            }
        };
        match &transport {
            Transport::Outbox(dir) => match write_eml(dir, &mail, &message).await {
                Ok(path) => tracing::info!(
                    kind = mail.kind.name(),
                    file = %path.display(),
                    link = %mail.link,
                    "no SMTP configured: message written to the outbox"
                ),
                Err(e) => {
                    tracing::error!(kind = mail.kind.name(), error = %e, dir = %dir.display(), "cannot write to the outbox: message NOT sent")
                }
            },
            Transport::Smtp(smtp) => {
                let mut delay = Duration::from_secs(1);
                for attempt in 1..=ATTEMPTS {
                    match smtp.send(message.clone()).await {
                        Ok(_) => {
                            tracing::info!(kind = mail.kind.name(), %domain, "message sent");
                            break;
                        }
                        Err(e) if attempt < ATTEMPTS && !e.is_permanent() => {
                            tracing::warn!(kind = mail.kind.name(), %domain, attempt, error = %e, "sending failed; retrying");
                            tokio::time::sleep(delay).await;
                            delay *= 2;
                        }
                        Err(e) => {
                            tracing::error!(kind = mail.kind.name(), %domain, attempt, error = %e, "message NOT sent");
                            break;
                        }
                    }
                }
            }
        }
    }
}

async fn write_eml(dir: &PathBuf, mail: &Mail, message: &Message) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let name = format!(
        "{stamp}-{}-{}.eml",
        mail.kind.name(),
        hallpass_core::id::generate_id(8)
    );
    let path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    tokio::fs::write(&tmp, message.formatted()).await?;
    tokio::fs::rename(&tmp, &path).await?;
    Ok(path)
}

fn compose(mail: &Mail, from: &Mailbox, site: &str) -> Result<Message, String> {
    let to: Mailbox = mail.to.parse().map_err(|e| format!("recipient: {e}"))?;
    let (subject, text, html) = render(mail, site);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html),
                ),
        )
        .map_err(|e| e.to_string())
}

/// Subject, text and HTML of a message.
pub fn render(mail: &Mail, site: &str) -> (String, String, String) {
    let minutes = mail.valid_minutes;
    let (subject, intro, action, outro) = match mail.kind {
        Kind::ResetPassword => (
            format!("Reset your {site} password"),
            format!("Someone asked to reset the password of your {site} account."),
            "Choose a new password",
            "If it was not you, ignore this message: your password stays as it is.",
        ),
        Kind::VerifyEmail => (
            format!("Confirm your email address for {site}"),
            format!("Please confirm that this is your address for your {site} account."),
            "Confirm my address",
            "If you did not create an account, ignore this message.",
        ),
        Kind::ChangeEmail => (
            format!("Confirm your new email address for {site}"),
            format!("Someone asked to use this address for a {site} account."),
            "Use this address",
            "If it was not you, ignore this message: nothing changes.",
        ),
    };
    let hello = if mail.name.trim().is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {},", mail.name.trim())
    };
    let text = format!(
        "{hello}\n\n{intro}\n\n{action}:\n{link}\n\nThe link works once, for {minutes} minutes. {outro}\n\n{site}\n",
        link = mail.link
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">\
<p>{hello}</p><p>{intro}</p>\
<p><a href=\"{link}\" style=\"display:inline-block;padding:.6em 1.2em;background:#2e5bdb;color:#fff;text-decoration:none;border-radius:4px\">{action}</a></p>\
<p style=\"font-size:90%\">Or paste this link into your browser:<br>{link}</p>\
<p style=\"font-size:90%\">The link works once, for {minutes} minutes. {outro}</p>\
<p>{site}</p></body></html>",
        hello = escape(&hello),
        intro = escape(&intro),
        link = escape(&mail.link),
        action = escape(action),
        outro = escape(outro),
        site = escape(site),
    );
    (subject, text, html)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_site_and_carry_the_link_escaped_in_html() {
        let mail = Mail {
            kind: Kind::ResetPassword,
            to: "ada@example.com".into(),
            name: "Ada <script>".into(),
            link: "http://localhost:4000/api/auth/reset-password/abc?callbackURL=%2Freset&x=1"
                .into(),
            valid_minutes: 60,
        };
        let (subject, text, html) = render(&mail, "Robotics Book");
        assert_eq!(subject, "Reset your Robotics Book password");
        assert!(text.contains(&mail.link));
        assert!(text.contains("60 minutes"));
        assert!(html.contains("callbackURL=%2Freset&amp;x=1"));
        assert!(html.contains("Ada &lt;script&gt;"));
        assert!(!html.contains("<script>"));
    }
}
