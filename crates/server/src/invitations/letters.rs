//! Survey e-mails written for a batch of invitations: to the customer's address when it
//! is a valid one, in the invitation's language (as its page picks it among the survey's),
//! with the personal link (signed with its expiry) and the unsubscribe link.

use std::collections::HashMap;

use cxray_core::access::{PseudonymKey, is_email};
use cxray_core::surveys::{Link, Links, SurveyMail, letter, pick_language};
use cxray_store::outbox::Mail;
use cxray_store::surveys::Invitation;

use crate::reports::Mailer;

/// What a survey e-mail needs besides its invitation.
pub(super) struct Writer<'a> {
    pub mailer: &'a Mailer,
    /// The server's public address.
    pub base: &'a str,
    /// The key personal links are signed with.
    pub key: PseudonymKey,
    /// Each survey's languages, by id.
    pub languages: HashMap<i64, Vec<String>>,
}

impl Writer<'_> {
    /// The e-mails `kind` of the invitations whose customer has a valid address in
    /// `addresses`, each link expiring at `expiry(invitation)`; and the ids of the
    /// invitations without one.
    pub fn write(
        &self,
        due: &[Invitation],
        addresses: &HashMap<String, String>,
        kind: SurveyMail,
        expiry: impl Fn(&Invitation) -> i64,
    ) -> (Vec<(i64, Mail)>, Vec<i64>) {
        let (mut mails, mut without) = (Vec::new(), Vec::new());
        for i in due {
            let address = addresses.get(&i.customer_id).filter(|a| is_email(a));
            match address.and_then(|a| self.mail(i, a, kind, expiry(i))) {
                Some(mail) => mails.push((i.id, mail)),
                None => without.push(i.id),
            }
        }
        (mails, without)
    }

    /// The e-mail to `to`, or none when the mail server would not take the address.
    fn mail(&self, i: &Invitation, to: &str, kind: SurveyMail, expires: i64) -> Option<Mail> {
        let token = Link {
            invitation: i.id,
            expires,
        }
        .sign(&self.key);
        let links = Links::new(self.base, &token);
        let offered = self
            .languages
            .get(&i.survey_id)
            .map_or(&[][..], Vec::as_slice);
        let language = pick_language(offered, i.language.as_deref(), None);
        self.mailer
            .survey(to, &letter(kind, language, &links), &links.unsubscribe)
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::MailSettings;
    use proptest::prelude::*;

    fn mailer() -> Mailer {
        let settings = MailSettings {
            smtp_url: "smtp://127.0.0.1:2525".into(),
            from: "cx@example.com".into(),
        };
        Mailer::new(&settings).unwrap()
    }

    fn invitation(id: i64, customer: &str) -> Invitation {
        Invitation {
            id,
            survey_id: 1,
            customer_id: customer.into(),
            touchpoint: "check_in".into(),
            send_at: 0,
            status: "pending".into(),
            expires_at: None,
            language: Some("de".into()),
            opened_at: None,
        }
    }

    /// Text that is no plain address: no `@`, several, an empty side, no dot in the
    /// domain, spaces, angle brackets, a display name, a list, line breaks.
    fn not_an_address() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9.]{0,20}",
            "[a-z]{1,8}@@[a-z]{1,8}\\.[a-z]{2,3}",
            "@[a-z]{1,8}\\.[a-z]{2,3}",
            "[a-z]{1,8}@",
            "[a-z]{1,8}@[a-z]{1,8}",
            "[a-z]{1,8} [a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}",
            "<[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}>",
            "[A-Z][a-z]{1,8} <[a-z]{1,8}@[a-z]{1,8}\\.com>",
            "[a-z]{1,8}@[a-z]{1,8}\\.com, [a-z]{1,8}@[a-z]{1,8}\\.com",
            "[a-z]{1,8}@[a-z]{1,8}\\.com\r\nBcc: [a-z]{1,8}@[a-z]{1,8}\\.com",
            "[a-z]{1,8}@\\.[a-z]{1,8}\\.com",
            "[a-z]{1,8}@[a-z]{1,8}\\.com\\.",
            "[a-z]{1,8}@[a-z]{1,8}\\.com;[a-z]{1,3}",
            "[a-z]{300,320}@example\\.com",
        ]
    }

    proptest! {
        /// An invitation whose customer's address is not a valid one gets no e-mail and
        /// is left for the link export; one with a valid address gets its e-mail.
        #[test]
        fn invalid_addresses_get_no_mail(bad in not_an_address()) {
            let m = mailer();
            let writer = Writer {
                mailer: &m,
                base: "https://cx.example",
                key: [1; 32],
                languages: HashMap::new(),
            };
            let due = [invitation(1, "c1"), invitation(2, "c2"), invitation(3, "c3")];
            let addresses = HashMap::from([
                ("c1".to_string(), bad.clone()),
                ("c2".to_string(), "ana@example.com".to_string()),
            ]);
            let (mails, without) = writer.write(&due, &addresses, SurveyMail::Invitation, |_| 9);
            prop_assert_eq!(without, vec![1, 3], "{:?}", bad);
            prop_assert_eq!(mails.len(), 1);
            prop_assert_eq!(&mails[0].1.recipient, "ana@example.com");
        }
    }

    #[test]
    fn a_letter_names_its_links_and_unsubscribes_in_one_click() {
        let m = mailer();
        let languages = HashMap::from([(1, vec!["en".to_string(), "de".to_string()])]);
        let writer = Writer {
            mailer: &m,
            base: "https://cx.example/",
            key: [1; 32],
            languages,
        };
        let addresses = HashMap::from([("c1".to_string(), "ana@example.com".to_string())]);
        let due = [invitation(7, "c1")];
        let (mails, _) = writer.write(&due, &addresses, SurveyMail::Reminder, |_| 99);
        let text = String::from_utf8(mails[0].1.message.clone()).unwrap();
        let token = Link {
            invitation: 7,
            expires: 99,
        }
        .sign(&[1; 32]);
        let unsubscribe = format!("https://cx.example/s/{token}/unsubscribe");
        assert!(
            text.contains(&format!("List-Unsubscribe: <{unsubscribe}>")),
            "{text}"
        );
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(
            text.contains("Subject: Erinnerung: Wie war Ihre Reise?"),
            "in German: {text}"
        );
    }
}
