//! E-mail through an SMTP server: writing a pack's message, a survey e-mail or a plain
//! one, and handing a queued message to the server.

use std::time::Duration;

use cxray_core::surveys::Letter;
use lettre::address::Envelope;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{Address, AsyncTransport, Message, Tokio1Executor};

use cxray_store::outbox::{Mail, Outcome, Queued};

/// The mail server and the sender's address.
#[derive(Debug, Clone, PartialEq)]
pub struct MailSettings {
    /// `smtp://host:port` (STARTTLS when offered with `?tls=required`), `smtps://host:port`
    /// for TLS from the start; user and password in the URL when the server asks for them.
    pub smtp_url: String,
    /// The address the packs come from.
    pub from: String,
}

/// Why mail could not be written or handed over.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail server URL: {0}")]
    Url(#[source] lettre::transport::smtp::Error),
    #[error("address '{address}': {source}")]
    Address {
        address: String,
        #[source]
        source: lettre::address::AddressError,
    },
    #[error("writing the e-mail: {0}")]
    Message(#[from] lettre::error::Error),
}

/// Connections to the mail server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// How long a mail server may take to answer one command.
const TIMEOUT: Duration = Duration::from_secs(60);

impl Mailer {
    pub fn new(settings: &MailSettings) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
            .map_err(MailError::Url)?
            .timeout(Some(TIMEOUT))
            .build();
        let from = Mailbox::new(Some("cxray".into()), address(&settings.from)?);
        Ok(Mailer { transport, from })
    }

    /// The sender's address.
    pub fn from(&self) -> String {
        self.from.email.to_string()
    }

    /// The pack's e-mail to `to`: the summary as text, the PDF attached.
    pub fn pack(
        &self,
        to: &str,
        (subject, summary): (&str, &str),
        pdf: (&str, &[u8]),
    ) -> Result<Mail, MailError> {
        let (file, bytes) = pdf;
        let text = format!(
            "{summary}\n\nThe board pack is attached ({file}).\n\n-- \nSent by cxray on a report schedule; an administrator can change it under Administration → Report schedules.\n"
        );
        let pdf_type = ContentType::parse("application/pdf").expect("a content type");
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, address(to)?))
            .subject(subject)
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(text))
                    .singlepart(Attachment::new(file.to_string()).body(bytes.to_vec(), pdf_type)),
            )?;
        Ok(Mail {
            recipient: to.to_string(),
            message: message.formatted(),
        })
    }

    /// A plain-text e-mail to `to`.
    pub fn text(&self, to: &str, subject: &str, body: &str) -> Result<Mail, MailError> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, address(to)?))
            .subject(subject)
            .singlepart(SinglePart::plain(body.to_string()))?;
        Ok(Mail {
            recipient: to.to_string(),
            message: message.formatted(),
        })
    }

    /// A survey e-mail to `to`, which mail programs can unsubscribe from in one click
    /// (RFC 8058: a POST to `unsubscribe`).
    pub fn survey(&self, to: &str, letter: &Letter, unsubscribe: &str) -> Result<Mail, MailError> {
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, address(to)?))
            .subject(letter.subject.as_str())
            .singlepart(SinglePart::plain(letter.body.clone()))?;
        let headers = message.headers_mut();
        let header = |name| HeaderName::new_from_ascii_str(name);
        headers.insert_raw(HeaderValue::new(
            header("List-Unsubscribe"),
            format!("<{unsubscribe}>"),
        ));
        headers.insert_raw(HeaderValue::new(
            header("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ));
        Ok(Mail {
            recipient: to.to_string(),
            message: message.formatted(),
        })
    }

    /// Hands a queued message to the mail server: sent, or why not (refused for good, or
    /// worth trying again).
    pub async fn send(&self, q: &Queued) -> Outcome {
        let sent = match envelope(q) {
            Ok(e) => self
                .transport
                .send_raw(&e, &q.message)
                .await
                .map_err(|e| (e.to_string(), e.is_permanent())),
            Err(e) => Err((e.to_string(), true)),
        };
        match sent {
            Ok(_) => Outcome::Sent,
            Err((error, permanent)) => Outcome::Failed { error, permanent },
        }
    }
}

/// Who a queued message is from and to.
fn envelope(q: &Queued) -> Result<Envelope, MailError> {
    let to = vec![address(&q.recipient)?];
    Ok(Envelope::new(Some(address(&q.sender)?), to)?)
}

fn address(text: &str) -> Result<Address, MailError> {
    text.parse().map_err(|source| MailError::Address {
        address: text.to_string(),
        source,
    })
}
