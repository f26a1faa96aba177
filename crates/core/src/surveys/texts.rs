//! The built-in texts of surveys, invitations and the survey page, in every language of
//! [`super::LANGUAGES`].

use crate::stats::Instrument;

/// A text of the survey page or of an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// The question of an instrument.
    Question(Instrument),
    /// The words at the low and the high end of an instrument's scale.
    Low(Instrument),
    High(Instrument),
    /// The report-card grade's five answers, far worse (F) to far better (A).
    Grade(usize),
    Comment,
    Submit,
    Required,
    Thanks,
    Expired,
    Altered,
    Closed,
    Unsubscribe,
    Unsubscribed,
    /// The survey page's heading.
    Title,
    /// A score that is not one of the answers shown.
    Invalid,
    /// A comment longer than [`super::survey::MAX_COMMENT_CHARS`].
    TooLong,
    /// Above the form when an answer needs attention.
    Check,
    /// A form too old or not sent from the survey page.
    Stale,
    /// Too many submissions: wait.
    TooMany,
    /// The question before the unsubscribe button.
    UnsubscribeAsk,
    /// A failure on our side.
    Unavailable,
    /// An invitation e-mail's subject, and a reminder's.
    Subject,
    ReminderSubject,
    /// The words before the personal link in an invitation e-mail, and in a reminder.
    Invitation,
    Reminder,
    /// The words before the unsubscribe link in every survey e-mail.
    UnsubscribeLine,
}

/// The text in `language` (a code of [`super::LANGUAGES`]; English for any other).
pub fn text(language: &str, t: Text) -> &'static str {
    let i = match language {
        "de" => 1,
        "fr" => 2,
        "es" => 3,
        _ => 0,
    };
    all(t)[i]
}

/// A text in English, German, French and Spanish.
fn all(t: Text) -> [&'static str; 4] {
    use Instrument::*;
    match t {
        Text::Question(Nps) => [
            "How likely are you to recommend us to a friend or colleague?",
            "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?",
            "Quelle est la probabilité que vous nous recommandiez à un ami ou un collègue ?",
            "¿Qué probabilidad hay de que nos recomiende a un amigo o colega?",
        ],
        Text::Question(Csat) => [
            "How satisfied were you with this part of your trip?",
            "Wie zufrieden waren Sie mit diesem Teil Ihrer Reise?",
            "Dans quelle mesure avez-vous été satisfait de cette étape de votre voyage ?",
            "¿Qué tan satisfecho quedó con esta parte de su viaje?",
        ],
        Text::Question(Ces) => [
            "How easy was it to get what you needed?",
            "Wie einfach war es, das zu bekommen, was Sie brauchten?",
            "Était-il facile d'obtenir ce dont vous aviez besoin ?",
            "¿Qué tan fácil fue conseguir lo que necesitaba?",
        ],
        Text::Question(Grade) => [
            "Compared with what you expected, this was:",
            "Verglichen mit Ihren Erwartungen war das:",
            "Par rapport à ce que vous attendiez, c'était :",
            "Comparado con lo que esperaba, fue:",
        ],
        Text::Low(Nps) => [
            "Not at all likely",
            "Überhaupt nicht wahrscheinlich",
            "Pas du tout probable",
            "Nada probable",
        ],
        Text::High(Nps) => [
            "Extremely likely",
            "Äußerst wahrscheinlich",
            "Très probable",
            "Muy probable",
        ],
        Text::Low(Csat) => [
            "Very dissatisfied",
            "Sehr unzufrieden",
            "Très insatisfait",
            "Muy insatisfecho",
        ],
        Text::High(Csat) => [
            "Very satisfied",
            "Sehr zufrieden",
            "Très satisfait",
            "Muy satisfecho",
        ],
        Text::Low(Ces) => [
            "Very difficult",
            "Sehr schwierig",
            "Très difficile",
            "Muy difícil",
        ],
        Text::High(Ces) => ["Very easy", "Sehr einfach", "Très facile", "Muy fácil"],
        Text::Low(Grade) | Text::Grade(0) => {
            ["Far worse", "Viel schlechter", "Bien pire", "Mucho peor"]
        }
        Text::Grade(1) => ["Worse", "Schlechter", "Pire", "Peor"],
        Text::Grade(2) => [
            "As expected",
            "Wie erwartet",
            "Comme prévu",
            "Como esperaba",
        ],
        Text::Grade(3) => ["Better", "Besser", "Mieux", "Mejor"],
        Text::High(Grade) | Text::Grade(_) => {
            ["Far better", "Viel besser", "Bien mieux", "Mucho mejor"]
        }
        Text::Comment => [
            "Anything else you would like to tell us? (optional)",
            "Möchten Sie uns noch etwas mitteilen? (freiwillig)",
            "Souhaitez-vous nous dire autre chose ? (facultatif)",
            "¿Algo más que quiera contarnos? (opcional)",
        ],
        Text::Submit => ["Send", "Senden", "Envoyer", "Enviar"],
        Text::Required => [
            "Please answer this question.",
            "Bitte beantworten Sie diese Frage.",
            "Veuillez répondre à cette question.",
            "Por favor, responda a esta pregunta.",
        ],
        Text::Thanks => [
            "Thank you — your answer has been recorded.",
            "Vielen Dank — Ihre Antwort wurde gespeichert.",
            "Merci — votre réponse a été enregistrée.",
            "Gracias — su respuesta ha quedado registrada.",
        ],
        Text::Expired => [
            "This survey has closed. Thank you for your interest.",
            "Diese Umfrage ist beendet. Danke für Ihr Interesse.",
            "Cette enquête est close. Merci de votre intérêt.",
            "Esta encuesta ha terminado. Gracias por su interés.",
        ],
        Text::Altered => [
            "This link does not work. Please use the link exactly as you received it.",
            "Dieser Link funktioniert nicht. Bitte verwenden Sie ihn genau so, wie Sie ihn erhalten haben.",
            "Ce lien ne fonctionne pas. Veuillez l'utiliser tel que vous l'avez reçu.",
            "Este enlace no funciona. Use el enlace tal como lo recibió.",
        ],
        Text::Closed => [
            "You have already answered this survey. Thank you!",
            "Sie haben diese Umfrage bereits beantwortet. Vielen Dank!",
            "Vous avez déjà répondu à cette enquête. Merci !",
            "Ya ha respondido a esta encuesta. ¡Gracias!",
        ],
        Text::Unsubscribe => [
            "Do not send me surveys",
            "Keine Umfragen mehr senden",
            "Ne plus m'envoyer d'enquêtes",
            "No enviarme más encuestas",
        ],
        Text::Unsubscribed => [
            "You will not be sent surveys any more.",
            "Sie erhalten keine Umfragen mehr.",
            "Vous ne recevrez plus d'enquêtes.",
            "Ya no recibirá encuestas.",
        ],
        Text::Title => ["Your opinion", "Ihre Meinung", "Votre avis", "Su opinión"],
        Text::Invalid => [
            "Please choose one of the answers shown.",
            "Bitte wählen Sie eine der angezeigten Antworten.",
            "Veuillez choisir l'une des réponses proposées.",
            "Por favor, elija una de las respuestas mostradas.",
        ],
        Text::TooLong => [
            "Please shorten your comment to at most 2,000 characters.",
            "Bitte kürzen Sie Ihren Kommentar auf höchstens 2.000 Zeichen.",
            "Veuillez raccourcir votre commentaire à 2 000 caractères au plus.",
            "Por favor, acorte su comentario a 2000 caracteres como máximo.",
        ],
        Text::Check => [
            "Please check the answers marked below.",
            "Bitte prüfen Sie die unten markierten Antworten.",
            "Veuillez vérifier les réponses signalées ci-dessous.",
            "Por favor, revise las respuestas señaladas abajo.",
        ],
        Text::Stale => [
            "This form has expired. Please check your answers and send them again.",
            "Dieses Formular ist abgelaufen. Bitte prüfen Sie Ihre Antworten und senden Sie sie erneut.",
            "Ce formulaire a expiré. Veuillez vérifier vos réponses et les envoyer à nouveau.",
            "Este formulario ha caducado. Revise sus respuestas y envíelas de nuevo.",
        ],
        Text::TooMany => [
            "Too many attempts. Please wait a few minutes and try again.",
            "Zu viele Versuche. Bitte warten Sie einige Minuten und versuchen Sie es erneut.",
            "Trop de tentatives. Veuillez patienter quelques minutes et réessayer.",
            "Demasiados intentos. Espere unos minutos y vuelva a intentarlo.",
        ],
        Text::UnsubscribeAsk => [
            "Would you like to stop receiving survey invitations from us?",
            "Möchten Sie keine Einladungen zu Umfragen mehr von uns erhalten?",
            "Souhaitez-vous ne plus recevoir d'invitations à nos enquêtes ?",
            "¿Desea dejar de recibir invitaciones a nuestras encuestas?",
        ],
        Text::Unavailable => [
            "The survey cannot be reached just now. Please try again later.",
            "Die Umfrage ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.",
            "L'enquête est momentanément indisponible. Veuillez réessayer plus tard.",
            "La encuesta no está disponible en este momento. Inténtelo más tarde.",
        ],
        Text::Subject => [
            "How was your trip?",
            "Wie war Ihre Reise?",
            "Comment s'est passé votre voyage ?",
            "¿Qué tal su viaje?",
        ],
        Text::Invitation => [
            "We would like to hear about your recent trip. It takes under a minute:",
            "Wir möchten gern von Ihrer letzten Reise hören. Es dauert weniger als eine Minute:",
            "Nous aimerions connaître votre avis sur votre dernier voyage. Cela prend moins d'une minute :",
            "Nos gustaría conocer su opinión sobre su último viaje. Le llevará menos de un minuto:",
        ],
        Text::ReminderSubject => [
            "Reminder: how was your trip?",
            "Erinnerung: Wie war Ihre Reise?",
            "Rappel : comment s'est passé votre voyage ?",
            "Recordatorio: ¿qué tal su viaje?",
        ],
        Text::Reminder => [
            "A reminder: we would still like to hear about your recent trip. It takes under a minute:",
            "Eine Erinnerung: Wir möchten gern noch von Ihrer letzten Reise hören. Es dauert weniger als eine Minute:",
            "Un rappel : nous aimerions toujours connaître votre avis sur votre dernier voyage. Cela prend moins d'une minute :",
            "Un recordatorio: todavía nos gustaría conocer su opinión sobre su último viaje. Le llevará menos de un minuto:",
        ],
        Text::UnsubscribeLine => [
            "To receive no more survey invitations from us:",
            "Wenn Sie keine Einladungen zu Umfragen mehr von uns erhalten möchten:",
            "Pour ne plus recevoir d'invitations à nos enquêtes :",
            "Para no recibir más invitaciones a nuestras encuestas:",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surveys::LANGUAGES;

    #[test]
    fn every_language_has_every_text() {
        let mut texts = vec![
            Text::Comment,
            Text::Submit,
            Text::Required,
            Text::Thanks,
            Text::Expired,
            Text::Altered,
            Text::Closed,
            Text::Unsubscribe,
            Text::Unsubscribed,
            Text::Title,
            Text::Invalid,
            Text::TooLong,
            Text::Check,
            Text::Stale,
            Text::TooMany,
            Text::UnsubscribeAsk,
            Text::Unavailable,
            Text::Subject,
            Text::ReminderSubject,
            Text::Invitation,
            Text::Reminder,
            Text::UnsubscribeLine,
        ];
        for i in Instrument::ALL {
            texts.extend([Text::Question(i), Text::Low(i), Text::High(i)]);
        }
        texts.extend((0..5).map(Text::Grade));
        for (code, _) in LANGUAGES {
            for t in &texts {
                assert!(!text(code, *t).is_empty(), "{code} {t:?}");
            }
        }
        assert_eq!(text("de", Text::Submit), "Senden");
        assert_eq!(text("pt", Text::Submit), "Send");
        assert_eq!(text("en", Text::Grade(4)), "Far better");
        assert_eq!(
            crate::surveys::survey::MAX_COMMENT_CHARS,
            2000,
            "Text::TooLong says so"
        );
    }
}
