use aws_sdk_pinpointsmsvoicev2::Client;
use aws_sdk_pinpointsmsvoicev2::types::{VoiceId, VoiceMessageBodyTextType};

use crate::destination::Destination;
use crate::ports::{DeliveryError, SpokenCode};
use crate::spend::{Micros, usd_text};

/// How long a call may wait to be placed: a code outlives no more than ten minutes.
const TIME_TO_LIVE_SECONDS: i32 = 600;

/// Calls through AWS End User Messaging SMS and Voice's `SendVoiceMessage`: SSML spoken by
/// the message's voice, from an origination identity that can call, under a price cap per
/// minute.
#[derive(Debug, Clone)]
pub struct Voice {
    client: Client,
    /// A phone number (or its id or ARN) or a pool with voice capability.
    origination: String,
    /// US dollars, as the API writes them (`0.10`).
    max_price_per_minute: String,
}

impl Voice {
    /// Calls from `origination`, each placed with `max_price_per_minute` (the spend cap's
    /// estimate of a call) as its price cap.
    pub fn new(client: Client, origination: String, max_price_per_minute: Micros) -> Self {
        Self {
            client,
            origination,
            max_price_per_minute: usd_text(max_price_per_minute),
        }
    }

    /// Places the call. A refusal (an opted-out number, a price over the cap, a number it
    /// cannot call) is a failed delivery like any other: nothing is made verifiable.
    pub async fn call(&self, to: &Destination, spoken: &SpokenCode) -> Result<(), DeliveryError> {
        let Destination::Phone(number) = to else {
            return Err(DeliveryError::NoChannel);
        };
        self.client
            .send_voice_message()
            .destination_phone_number(number)
            .origination_identity(&self.origination)
            .message_body(&spoken.ssml)
            .message_body_text_type(VoiceMessageBodyTextType::Ssml)
            .voice_id(VoiceId::from(spoken.voice_id))
            .max_price_per_minute(&self.max_price_per_minute)
            .time_to_live(TIME_TO_LIVE_SECONDS)
            .send()
            .await
            .map(|_| ())
            .map_err(super::failed)
    }
}
