//! The built-in locales a call can speak: the voice of AWS End User Messaging SMS and
//! Voice that speaks each (one standard voice per language), and the two phrases the call
//! says before the code, the first time and again. `{sender}` is replaced.

use super::Voice;

/// Every locale with a voice, sorted by tag.
pub(super) const VOICES: &[Voice] = &[
    Voice {
        tag: "ar",
        voice_id: "ZEINA",
        first: "إليك رمز التحقق من {sender}:",
        again: "مرة أخرى:",
    },
    Voice {
        tag: "da",
        voice_id: "NAJA",
        first: "Her er din bekræftelseskode fra {sender}:",
        again: "Én gang til:",
    },
    Voice {
        tag: "de",
        voice_id: "MARLENE",
        first: "Hier ist Ihr Bestätigungscode von {sender}:",
        again: "Noch einmal:",
    },
    Voice {
        tag: "en",
        voice_id: "JOANNA",
        first: "Here is your {sender} verification code:",
        again: "Once more:",
    },
    Voice {
        tag: "en-GB",
        voice_id: "AMY",
        first: "Here is your {sender} verification code:",
        again: "Once more:",
    },
    Voice {
        tag: "es",
        voice_id: "LUCIA",
        first: "Este es tu código de verificación de {sender}:",
        again: "Otra vez:",
    },
    Voice {
        tag: "fr",
        voice_id: "LEA",
        first: "Voici votre code de vérification {sender} :",
        again: "Je répète :",
    },
    Voice {
        tag: "it",
        voice_id: "BIANCA",
        first: "Ecco il tuo codice di verifica {sender}:",
        again: "Ripeto:",
    },
    Voice {
        tag: "ja",
        voice_id: "MIZUKI",
        first: "{sender}の確認コードをお伝えします。",
        again: "繰り返します。",
    },
    Voice {
        tag: "ko",
        voice_id: "SEOYEON",
        first: "{sender} 인증 코드를 알려 드립니다.",
        again: "다시 한 번 알려 드립니다.",
    },
    Voice {
        tag: "nb",
        voice_id: "LIV",
        first: "Her er bekreftelseskoden din fra {sender}:",
        again: "Én gang til:",
    },
    Voice {
        tag: "nl",
        voice_id: "LOTTE",
        first: "Hier is je verificatiecode van {sender}:",
        again: "Nog een keer:",
    },
    Voice {
        tag: "pl",
        voice_id: "EWA",
        first: "Oto Twój kod weryfikacyjny {sender}:",
        again: "Powtarzam:",
    },
    Voice {
        tag: "pt",
        voice_id: "INES",
        first: "Aqui está o seu código de verificação {sender}:",
        again: "Repito:",
    },
    Voice {
        tag: "pt-BR",
        voice_id: "CAMILA",
        first: "Aqui está o seu código de verificação do {sender}:",
        again: "Repetindo:",
    },
    Voice {
        tag: "ro",
        voice_id: "CARMEN",
        first: "Iată codul tău de verificare {sender}:",
        again: "Repet:",
    },
    Voice {
        tag: "ru",
        voice_id: "TATYANA",
        first: "Ваш код подтверждения {sender}:",
        again: "Повторяю:",
    },
    Voice {
        tag: "sv",
        voice_id: "ASTRID",
        first: "Här är din verifieringskod från {sender}:",
        again: "En gång till:",
    },
    Voice {
        tag: "tr",
        voice_id: "FILIZ",
        first: "{sender} doğrulama kodunuz:",
        again: "Tekrar ediyorum:",
    },
    Voice {
        tag: "zh",
        voice_id: "ZHIYU",
        first: "您的{sender}验证码是：",
        again: "再说一遍：",
    },
    Voice {
        tag: "zh-CN",
        voice_id: "ZHIYU",
        first: "您的{sender}验证码是：",
        again: "再说一遍：",
    },
];
