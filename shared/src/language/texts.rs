//! The built-in texts, one per locale: an SMS (also an email's body) and an email's
//! subject.
//!
//! An SMS text has `{code}` (the code), `{sender}` (the app's or company's name) and
//! `{minutes}` (the code's lifetime in whole minutes), each exactly once, and no other
//! braces; the code comes first, or as early as the language allows, so that a phone's
//! notification shows it. Rendered with `Acme Shop`, `123456` and `10`, every text fits one
//! SMS segment: 160 GSM-7 septets, or 70 UTF-16 units once one character is outside GSM-7
//! (see `crate::spend::segments`). A subject has no placeholders.

use super::Texts;

/// Every built-in locale, in Twilio's tags, sorted by tag.
pub(super) const TEXTS: &[Texts] = &[
    Texts {
        tag: "af",
        name: "Afrikaans",
        sms: "{code} is jou {sender}-verifikasiekode. Dit verval oor {minutes} minute. Moenie dit met iemand deel nie.",
        subject: "Jou verifikasiekode",
    },
    Texts {
        tag: "ar",
        name: "Arabic",
        sms: "{code} رمز التحقق من {sender}. صالح لمدة {minutes} دقائق. لا تشاركه مع أحد.",
        subject: "رمز التحقق الخاص بك",
    },
    Texts {
        tag: "bg",
        name: "Bulgarian",
        sms: "{code} е кодът ви за {sender}. Валиден е {minutes} мин. Не го споделяйте.",
        subject: "Вашият код за потвърждение",
    },
    Texts {
        tag: "bn",
        name: "Bengali",
        sms: "{code} আপনার {sender} যাচাই কোড। মেয়াদ {minutes} মিনিট। কাউকে বলবেন না।",
        subject: "আপনার যাচাইকরণ কোড",
    },
    Texts {
        tag: "ca",
        name: "Catalan",
        sms: "{code} és el teu codi per a {sender}. Caduca en {minutes} minuts. No el comparteixis.",
        subject: "El teu codi de verificació",
    },
    Texts {
        tag: "cs",
        name: "Czech",
        sms: "{code} je ověřovací kód pro {sender}. Platí {minutes} min. Nesdílejte ho.",
        subject: "Váš ověřovací kód",
    },
    Texts {
        tag: "da",
        name: "Danish",
        sms: "{code} er din bekræftelseskode til {sender}. Den udløber om {minutes} minutter. Del den ikke med nogen.",
        subject: "Din bekræftelseskode",
    },
    Texts {
        tag: "de",
        name: "German",
        sms: "{code} ist Ihr Bestätigungscode für {sender}. Er läuft in {minutes} Minuten ab. Geben Sie ihn nicht weiter.",
        subject: "Ihr Bestätigungscode",
    },
    Texts {
        tag: "el",
        name: "Greek",
        sms: "{code}: ο κωδικός σας για {sender}. Ισχύει {minutes} λεπτά. Μην τον δίνετε.",
        subject: "Ο κωδικός επαλήθευσής σας",
    },
    Texts {
        tag: "en",
        name: "English",
        sms: "{code} is your {sender} verification code. It expires in {minutes} minutes. Do not share it.",
        subject: "Your verification code",
    },
    Texts {
        tag: "en-GB",
        name: "English (British)",
        sms: "{code} is your {sender} verification code. It expires in {minutes} minutes. Do not share it.",
        subject: "Your verification code",
    },
    Texts {
        tag: "es",
        name: "Spanish",
        sms: "{code} es tu código de {sender}. Expira en {minutes} min. No lo compartas.",
        subject: "Tu código de verificación",
    },
    Texts {
        tag: "et",
        name: "Estonian",
        sms: "{code} on teie {sender} kinnituskood. See kehtib {minutes} minutit. Ärge jagage seda kellegagi.",
        subject: "Teie kinnituskood",
    },
    Texts {
        tag: "fi",
        name: "Finnish",
        sms: "{code} on vahvistuskoodisi palveluun {sender}. Se vanhenee {minutes} minuutissa. Älä kerro sitä kenellekään.",
        subject: "Vahvistuskoodisi",
    },
    Texts {
        tag: "fr",
        name: "French",
        sms: "{code} est votre code de vérification pour {sender}. Il expire dans {minutes} minutes. Ne le partagez avec personne.",
        subject: "Votre code de vérification",
    },
    Texts {
        tag: "gu",
        name: "Gujarati",
        sms: "{code} તમારો {sender} ચકાસણી કોડ છે. {minutes} મિનિટ માન્ય. કોઈને ન કહેશો.",
        subject: "તમારો ચકાસણી કોડ",
    },
    Texts {
        tag: "he",
        name: "Hebrew",
        sms: "{code} הוא קוד האימות שלך ל-{sender}. תוקפו {minutes} דקות. אין למסור לאיש.",
        subject: "קוד האימות שלך",
    },
    Texts {
        tag: "hi",
        name: "Hindi",
        sms: "{code} आपका {sender} सत्यापन कोड है। {minutes} मिनट मान्य। किसी को न बताएं।",
        subject: "आपका सत्यापन कोड",
    },
    Texts {
        tag: "hr",
        name: "Croatian",
        sms: "{code} je vaš kod za {sender}. Vrijedi {minutes} min. Ne dijelite ga.",
        subject: "Vaš verifikacijski kod",
    },
    Texts {
        tag: "hu",
        name: "Hungarian",
        sms: "{code} a(z) {sender} kódod. Érvényes {minutes} percig. Ne add ki senkinek.",
        subject: "Az ellenőrző kódod",
    },
    Texts {
        tag: "id",
        name: "Indonesian",
        sms: "{code} adalah kode verifikasi {sender} Anda. Kode berlaku {minutes} menit. Jangan berikan kode ini kepada siapa pun.",
        subject: "Kode verifikasi Anda",
    },
    Texts {
        tag: "it",
        name: "Italian",
        sms: "{code} è il tuo codice di verifica per {sender}. Scade tra {minutes} minuti. Non condividerlo con nessuno.",
        subject: "Il tuo codice di verifica",
    },
    Texts {
        tag: "ja",
        name: "Japanese",
        sms: "{code}は{sender}の認証コードです。有効期限は{minutes}分です。このコードは他人に教えないでください。",
        subject: "認証コードのお知らせ",
    },
    Texts {
        tag: "kn",
        name: "Kannada",
        sms: "{code} ನಿಮ್ಮ {sender} ಪರಿಶೀಲನಾ ಕೋಡ್. {minutes} ನಿಮಿಷ ಮಾನ್ಯ. ಹಂಚಿಕೊಳ್ಳಬೇಡಿ.",
        subject: "ನಿಮ್ಮ ಪರಿಶೀಲನಾ ಕೋಡ್",
    },
    Texts {
        tag: "ko",
        name: "Korean",
        sms: "{code}: {sender} 인증번호입니다. {minutes}분 후 만료됩니다. 타인에게 알려주지 마세요.",
        subject: "인증번호 안내",
    },
    Texts {
        tag: "lt",
        name: "Lithuanian",
        sms: "{code} yra jūsų {sender} kodas. Galioja {minutes} min. Niekam jo nesakykite.",
        subject: "Jūsų patvirtinimo kodas",
    },
    Texts {
        tag: "ml",
        name: "Malayalam",
        sms: "{code} ആണ് നിങ്ങളുടെ {sender} കോഡ്. {minutes} മിനിറ്റ് സാധുവാണ്. പങ്കിടരുത്.",
        subject: "നിങ്ങളുടെ സ്ഥിരീകരണ കോഡ്",
    },
    Texts {
        tag: "mr",
        name: "Marathi",
        sms: "{code} तुमचा {sender} पडताळणी कोड. {minutes} मिनिटे वैध. कोणालाही सांगू नका.",
        subject: "तुमचा पडताळणी कोड",
    },
    Texts {
        tag: "ms",
        name: "Malay",
        sms: "{code} ialah kod pengesahan {sender} anda. Kod ini sah selama {minutes} minit. Jangan kongsi kod ini dengan sesiapa.",
        subject: "Kod pengesahan anda",
    },
    Texts {
        tag: "nb",
        name: "Norwegian Bokmål",
        sms: "{code} er din bekreftelseskode for {sender}. Den utløper om {minutes} minutter. Ikke del den med noen.",
        subject: "Din bekreftelseskode",
    },
    Texts {
        tag: "nl",
        name: "Dutch",
        sms: "{code} is je verificatiecode voor {sender}. De code verloopt over {minutes} minuten. Deel deze code met niemand.",
        subject: "Je verificatiecode",
    },
    Texts {
        tag: "pa",
        name: "Punjabi",
        sms: "{code} ਤੁਹਾਡਾ {sender} ਪੁਸ਼ਟੀ ਕੋਡ ਹੈ। {minutes} ਮਿੰਟ ਵੈਧ। ਕਿਸੇ ਨੂੰ ਨਾ ਦੱਸੋ।",
        subject: "ਤੁਹਾਡਾ ਪੁਸ਼ਟੀਕਰਨ ਕੋਡ",
    },
    Texts {
        tag: "pl",
        name: "Polish",
        sms: "{code} to Twój kod {sender}. Ważny {minutes} min. Nikomu go nie podawaj.",
        subject: "Twój kod weryfikacyjny",
    },
    Texts {
        tag: "pt",
        name: "Portuguese",
        sms: "{code} é o seu código {sender}. Expira em {minutes} min. Não o partilhe.",
        subject: "O seu código de verificação",
    },
    Texts {
        tag: "pt-BR",
        name: "Portuguese (Brazil)",
        sms: "{code} é seu código {sender}. Expira em {minutes} min. Não compartilhe.",
        subject: "Seu código de verificação",
    },
    Texts {
        tag: "ro",
        name: "Romanian",
        sms: "{code} este codul tău {sender}. Expiră în {minutes} min. Nu-l da nimănui.",
        subject: "Codul tău de verificare",
    },
    Texts {
        tag: "ru",
        name: "Russian",
        sms: "{code} — ваш код для {sender}. Действует {minutes} мин. Никому не сообщайте.",
        subject: "Ваш код подтверждения",
    },
    Texts {
        tag: "sk",
        name: "Slovak",
        sms: "{code} je overovací kód pre {sender}. Platí {minutes} min. Nezdieľajte ho.",
        subject: "Váš overovací kód",
    },
    Texts {
        tag: "sv",
        name: "Swedish",
        sms: "{code} är din verifieringskod för {sender}. Den gäller i {minutes} minuter. Dela inte koden med någon.",
        subject: "Din verifieringskod",
    },
    Texts {
        tag: "ta",
        name: "Tamil",
        sms: "{code} உங்கள் {sender} குறியீடு. {minutes} நிமிடம் செல்லும். பகிர வேண்டாம்.",
        subject: "உங்கள் சரிபார்ப்புக் குறியீடு",
    },
    Texts {
        tag: "te",
        name: "Telugu",
        sms: "{code} మీ {sender} కోడ్. {minutes} నిమిషాలు చెల్లుతుంది. ఎవరికీ చెప్పకండి.",
        subject: "మీ ధృవీకరణ కోడ్",
    },
    Texts {
        tag: "th",
        name: "Thai",
        sms: "{code} คือรหัสยืนยัน {sender} ของคุณ ใช้ได้ {minutes} นาที ห้ามบอกผู้อื่น",
        subject: "รหัสยืนยันของคุณ",
    },
    Texts {
        tag: "tl",
        name: "Tagalog",
        sms: "{code} ang iyong verification code para sa {sender}. Mag-e-expire ito sa loob ng {minutes} minuto. Huwag itong ibahagi kahit kanino.",
        subject: "Ang iyong verification code",
    },
    Texts {
        tag: "tr",
        name: "Turkish",
        sms: "{code}, {sender} kodunuzdur. {minutes} dk geçerlidir. Kimseyle paylaşmayın.",
        subject: "Doğrulama kodunuz",
    },
    Texts {
        tag: "uk",
        name: "Ukrainian",
        sms: "{code} — ваш код для {sender}. Дійсний {minutes} хв. Нікому не повідомляйте.",
        subject: "Ваш код підтвердження",
    },
    Texts {
        tag: "ur",
        name: "Urdu",
        sms: "{code} آپ کا {sender} تصدیقی کوڈ ہے۔ {minutes} منٹ تک درست۔ شیئر نہ کریں۔",
        subject: "آپ کا تصدیقی کوڈ",
    },
    Texts {
        tag: "vi",
        name: "Vietnamese",
        sms: "{code} là mã xác minh {sender}. Hết hạn sau {minutes} phút. Đừng chia sẻ mã.",
        subject: "Mã xác minh của bạn",
    },
    Texts {
        tag: "zh",
        name: "Chinese (Simplified)",
        sms: "{code}是您的{sender}验证码，{minutes}分钟内有效。请勿泄露给他人。",
        subject: "您的验证码",
    },
    Texts {
        tag: "zh-CN",
        name: "Chinese (China)",
        sms: "{code}是您的{sender}验证码，{minutes}分钟内有效。请勿泄露给他人。",
        subject: "您的验证码",
    },
    Texts {
        tag: "zh-HK",
        name: "Chinese (Hong Kong)",
        sms: "{code}是您的{sender}驗證碼，{minutes}分鐘內有效。請勿向他人透露。",
        subject: "您的驗證碼",
    },
];
