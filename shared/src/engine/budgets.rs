//! The budgets of one send request: spent all at once in the request's first round trip,
//! decided once the caller's own limits are known, and given back whole when the request
//! is refused (by a budget, its credentials or its body).
//!
//! Every budget of a destination is its tenant's (docs/security.md, "Whose budgets"): the destination's
//! cooldown and sends per ten minutes, and its number range, are kept per tenant, so no
//! tenant's callers can spend what another's users need.
//!
//! Sliding budgets (the destination's, the source address's) decide in their own write;
//! counters (the client's, the number range's) count first and are decided against the
//! limit of the client record read beside them. Every give-back is exact, even when
//! another request took the same budget in between.
//!
//! An API client's credentials are checked beside the first round trip, so until then a
//! request only claims its tenant. A claim that fails gives back everything it took of
//! that tenant and spends its source address's budget instead, as any caller no client
//! vouches for: whoever lacks a client's credentials spends nothing of the client's, and
//! is held by the budget of the address it calls from.

use std::future::Future;

use futures_util::future::{Either, join_all};
use rand::RngExt;

use crate::clock::UnixSeconds;
use crate::destination::Destination;
use crate::error::OtpError;
use crate::guard::{GuardMode, Guarded, Spans, Verdict, decide};
use crate::ports::{ClientLimits, ConversionStore, QuotaStore, SpendStore};
use crate::quota::{CounterCharge, Exceeded, SlidingCharge};
use crate::spend::{Micros, SpendCounter};
use crate::tenant::Requester;

use super::{Otp, too_many};

/// The counters of a send, by what sets their limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CounterKind {
    Client,
    NumberRange,
}

#[derive(Debug)]
struct Counted {
    kind: CounterKind,
    charge: CounterCharge,
    count: u64,
}

/// A send the conversion guard counted, and what it decided.
#[derive(Debug)]
struct GuardCount {
    watched: Guarded,
    verdict: Verdict,
    /// What its item holds that no longer counts.
    stale: Spans,
}

/// What a send's estimate added to the spend cap's counters.
#[derive(Debug)]
struct SpendCount {
    /// The number's country.
    region: String,
    /// The estimate: one segment to the number's country.
    per_segment: Micros,
    /// The counters it was added to, each with its total once added.
    totals: Vec<(SpendCounter, Micros)>,
}

/// Changes every spend counter a send's estimate went to, at once; each failure is logged
/// as `failed` (the request is answered either way).
async fn each_counter<'a, F, T>(spend: &'a SpendCount, change: impl Fn(&'a SpendCounter) -> F, failed: &str)
where
    F: Future<Output = Result<T, crate::ports::StoreError>>,
{
    let changed = join_all(spend.totals.iter().map(|(counter, _)| change(counter))).await;
    for error in changed.into_iter().filter_map(Result::err) {
        tracing::warn!(error = %error, "{failed}");
    }
}

/// What a message costs, as the spend cap prices it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MessageCost {
    /// A text of so many segments (a WhatsApp message is one).
    Segments(u32),
    /// A call: its price cap per minute.
    Call,
}

/// What one send request spent.
#[derive(Debug)]
pub(crate) struct Spent {
    at: UnixSeconds,
    taken: Vec<SlidingCharge>,
    refusals: Vec<Exceeded>,
    counted: Vec<Counted>,
    guard: Option<GuardCount>,
    spend: Option<SpendCount>,
    failure: Option<crate::ports::StoreError>,
}

impl Spent {
    /// The country of the number it went to, as its estimate priced it (none for an
    /// email, or for a number no country claims).
    pub(crate) fn country(&self) -> Option<&str> {
        self.spend
            .as_ref()
            .map(|spend| spend.region.as_str())
            .filter(|region| *region != crate::spend::NO_COUNTRY)
    }
}

/// A send the budgets refuse: the error it answers, and whether the conversion guard
/// alone refused it (its cool-off is then kept).
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) error: OtpError,
    pub(crate) by_guard: bool,
}

impl<S: QuotaStore + ConversionStore + SpendStore> Otp<S> {
    /// Spends every budget of a send at once: the tenant's for the destination (cooldown
    /// and cap, on its mailbox), the client's or else the source address's, the
    /// tenant's for the number range, and a phone send's estimated cost.
    pub(crate) async fn spend_send(
        &self,
        destination: &Destination,
        country: Option<&str>,
        by_call: bool,
        requester: &Requester,
        at: UnixSeconds,
    ) -> Spent {
        let tenant = &requester.tenant;
        let mut sliding = vec![SlidingCharge {
            rule: self.policy.send_quota(),
            subject: tenant.subject(&destination.mailbox()),
        }];
        // An address's budget is for callers no API client vouches for (end users'
        // browsers and apps); a client's servers send from few addresses, and the
        // client's own budget bounds them instead.
        if let (Some(ip), None) = (requester.source_ip, tenant.client()) {
            sliding.push(self.address_charge(ip));
        }
        // Limits are filled in when decided: the client record is read beside this.
        let mut counters = Vec::new();
        if let Some(client) = tenant.client() {
            counters.push((
                CounterKind::Client,
                CounterCharge {
                    rule: self.policy.client_send_quota(None),
                    subject: client.to_owned(),
                },
            ));
        }
        if let Some(range) = destination.number_range(self.policy.number_range_digits) {
            counters.push((
                CounterKind::NumberRange,
                CounterCharge {
                    rule: self.policy.number_range_quota(None),
                    subject: tenant.subject(&range),
                },
            ));
        }

        let watched = self.guard.watch(tenant, destination, self.policy.number_range_digits);
        let guard_count = async {
            match &watched {
                Some(watched) => Some(self.store.count_guarded_send(&watched.subject, at).await),
                None => None,
            }
        };

        let order = self
            .spend
            .order(tenant, destination, country, by_call, at, rand::rng().random::<u32>());
        let per_segment = order.as_ref().map_or(0, |order| order.per_segment);
        let (region, counters_of_spend) = order.map(|order| (order.region, order.counters)).unwrap_or_default();

        let takes = join_all(sliding.iter().map(|charge| Box::pin(self.store.take(charge, at))));
        let counts = join_all(
            counters
                .iter()
                .map(|(_, charge)| Box::pin(self.store.count(charge, at))),
        );
        let spends = join_all(
            counters_of_spend
                .iter()
                .map(|counter| Box::pin(self.store.add_spend(counter, per_segment))),
        );
        let (taken_results, counted_results, guard_result, spend_results) =
            tokio::join!(takes, counts, Box::pin(guard_count), spends);

        let mut spent = Spent {
            at,
            taken: Vec::new(),
            refusals: Vec::new(),
            counted: Vec::new(),
            guard: None,
            spend: None,
            failure: None,
        };
        if !counters_of_spend.is_empty() {
            let mut totals = Vec::new();
            for (counter, result) in counters_of_spend.into_iter().zip(spend_results) {
                match result {
                    Ok(total) => totals.push((counter, total)),
                    Err(error) => spent.failure = Some(error),
                }
            }
            spent.spend = Some(SpendCount {
                region,
                per_segment,
                totals,
            });
        }
        match (watched, guard_result) {
            (Some(watched), Some(Ok(traffic))) => {
                let verdict = decide(self.guard.thresholds, &traffic, at);
                spent.guard = Some(GuardCount {
                    watched,
                    verdict,
                    stale: traffic.stale,
                });
            }
            // Where the guard only watches, its store's failure fails no send.
            (Some(watched), Some(Err(error))) if watched.mode == GuardMode::Monitor => {
                tracing::warn!(error = %error, prefix = %watched.prefix, "the guard could not count a send");
            }
            (_, Some(Err(error))) => spent.failure = Some(error),
            _ => {}
        }
        for (charge, result) in sliding.into_iter().zip(taken_results) {
            match result {
                Ok(Ok(())) => spent.taken.push(charge),
                Ok(Err(exceeded)) => spent.refusals.push(exceeded),
                Err(error) => spent.failure = Some(error),
            }
        }
        for ((kind, charge), result) in counters.into_iter().zip(counted_results) {
            match result {
                Ok(count) => spent.counted.push(Counted { kind, charge, count }),
                Err(error) => spent.failure = Some(error),
            }
        }
        spent
    }

    /// Drops what the guard's item holds that no longer counts, beside a send's later
    /// work (its delivery): a failure is logged, the next send sees the names again.
    pub(crate) async fn forget_stale(&self, spent: &Spent) {
        if let Some(guard) = spent.guard.as_ref().filter(|guard| !guard.stale.is_empty())
            && let Err(error) = self.store.forget(&guard.watched.subject, &guard.stale).await
        {
            tracing::warn!(error = %error, "the guard's stale counts were not dropped");
        }
    }

    /// Adds what a message costs past its send's first estimate to the spend counters
    /// that estimate went to, beside its delivery: its segments past the first, or, for a
    /// call the first round trip priced as a text (a configuration's channel, read
    /// beside it), what a call costs more. Returns what each counter was given.
    pub(crate) async fn add_to_estimate(&self, spent: &Spent, cost: MessageCost) -> Micros {
        let Some(spend) = spent.spend.as_ref() else {
            return 0;
        };
        let extra = match cost {
            MessageCost::Segments(segments) => spend.per_segment.saturating_mul(u64::from(segments.saturating_sub(1))),
            MessageCost::Call => self.spend.call_per_minute.saturating_sub(spend.per_segment),
        };
        if extra == 0 {
            return 0;
        }
        let add = |counter| self.store.add_spend(counter, extra);
        each_counter(spend, add, "what a message costs past its estimate was not counted").await;
        extra
    }

    /// Counts a delivered message, by its country and with its estimate (the first
    /// segment's and the `extra` ones') when it went to a phone: those, for its attempt.
    pub(crate) fn count_phone_sent(&self, spent: &Spent, extra: Micros) -> Option<(String, Micros)> {
        let spend = spent.spend.as_ref()?;
        let estimate = spend.per_segment.saturating_add(extra);
        self.telemetry.phone_sent(&spend.region, estimate);
        Some((spend.region.clone(), estimate))
    }

    /// Takes a send out of the conversion guard's counts and out of the spend (with the
    /// `extra` its further segments added), keeping every budget it spent: its delivery
    /// failed, and a provider's outage is no sign of pumping and costs nothing.
    pub(crate) async fn uncount_undelivered(&self, spent: &Spent, extra: Micros) {
        let guard = async {
            if let Some(guard) = &spent.guard
                && let Err(error) = self
                    .store
                    .uncount_guarded_send(&guard.watched.subject, spent.at, None)
                    .await
            {
                tracing::warn!(error = %error, "an undelivered send stayed in the guard's counts");
            }
        };
        tokio::join!(guard, self.take_back_spend(spent, extra));
    }

    /// Takes back from the spend counters what a send's estimate (and `extra`) added.
    async fn take_back_spend(&self, spent: &Spent, extra: Micros) {
        let Some(spend) = &spent.spend else {
            return;
        };
        let amount = spend.per_segment.saturating_add(extra);
        let take_back = |counter| self.store.take_back_spend(counter, amount);
        each_counter(spend, take_back, "a send's estimated spend was not taken back").await;
    }

    /// Gives back everything a refused request took; failures are logged, not raised
    /// (the request is answered with its refusal either way). `guard_refused`: the
    /// conversion guard alone refused it, so the cool-off it decided is kept.
    pub(crate) async fn give_back_send(&self, spent: &Spent, guard_refused: bool) {
        let slides = join_all(spent.taken.iter().map(|charge| self.store.give_back(charge, spent.at)));
        let counters = join_all(spent.counted.iter().map(|c| self.store.uncount(&c.charge, spent.at)));
        let guard = async {
            let Some(guard) = &spent.guard else {
                return Ok(());
            };
            let block = match guard.verdict {
                Verdict::Refuse {
                    until,
                    starts: Some(blocks),
                    ..
                } if guard_refused => Some((until, blocks)),
                _ => None,
            };
            self.store
                .uncount_guarded_send(&guard.watched.subject, spent.at, block)
                .await
        };
        let (slides, counters, guard, ()) = tokio::join!(slides, counters, guard, self.take_back_spend(spent, 0));
        for error in slides
            .into_iter()
            .chain(counters)
            .chain([guard])
            .filter_map(Result::err)
        {
            tracing::warn!(error = %error, "a refused send's budget was not given back");
        }
    }
}

/// The failed claims' rules: a verify's too, so they need only the budgets.
impl<S: QuotaStore> Otp<S> {
    /// The budget of a source address: sends an hour from callers no client vouches for.
    /// An IPv6 caller is its /64: one subscriber's network, where any one of its 2^64
    /// addresses is the caller's to pick.
    pub(crate) fn address_charge(&self, ip: std::net::IpAddr) -> SlidingCharge {
        let subject = match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        };
        SlidingCharge {
            rule: self.policy.ip_send_quota(),
            subject,
        }
    }

    /// What the memory of refusals calls the address whose budget this is.
    fn address_suspect(address: &SlidingCharge) -> String {
        format!("address:{}", address.subject)
    }

    /// What the memory of refusals calls a claim's source address.
    fn claimant(&self, requester: &Requester) -> Option<String> {
        requester.tenant.client()?;
        Some(Self::address_suspect(&self.address_charge(requester.source_ip?)))
    }

    /// `reads` (the claimed client's credentials among them), awaited first when the
    /// request claims a client from an address whose failed claims its budget refused
    /// lately: a claim that fails again then spends nothing of the client's, not even for
    /// a round trip. Any other request gets `reads` back untouched, to run beside its
    /// first round trip.
    pub(crate) async fn claim_checked_first<T>(
        &self,
        requester: &Requester,
        reads: impl Future<Output = Result<T, OtpError>>,
        now: UnixSeconds,
    ) -> Result<impl Future<Output = Result<T, OtpError>>, OtpError> {
        let suspect = self
            .claimant(requester)
            .is_some_and(|claimant| self.suspects.is_suspect(&claimant, now));
        if !suspect {
            return Ok(Either::Left(reads));
        }
        match reads.await {
            Ok(value) => Ok(Either::Right(std::future::ready(Ok(value)))),
            Err(error) => {
                self.charge_failed_claim(requester, &error, now).await;
                Err(error)
            }
        }
    }

    /// When `error` says a request's claimed client credentials failed, spends the
    /// request's source address's budget: a failed claim costs what an anonymous request
    /// costs, never anything of the client it named. Beside the give-back of what the
    /// claim took, so it adds no round trip.
    pub(crate) async fn charge_failed_claim(&self, requester: &Requester, error: &OtpError, at: UnixSeconds) {
        let (true, Some(_), Some(ip)) = (
            matches!(error, OtpError::Unauthorized),
            requester.tenant.client(),
            requester.source_ip,
        ) else {
            return;
        };
        let address = self.address_charge(ip);
        match self.store.take(&address, at).await {
            Ok(Ok(())) => {}
            Ok(Err(exceeded)) => {
                tracing::info!(%ip, "failed credentials from an address past its budget");
                let until = at + exceeded.retry_after.max(1) as i64;
                self.suspects.mark(Self::address_suspect(&address), until, at);
            }
            Err(error) => tracing::warn!(error = %error, "a failed claim's address budget was not spent"),
        }
    }
}

impl<S: QuotaStore + ConversionStore + SpendStore> Otp<S> {
    /// Whether the spent budgets admit the request, under the client's own limits, then
    /// the spend cap, then the conversion guard (whose every refusal, enforced or not, is
    /// logged and counted here, once).
    pub(crate) fn verdict(&self, spent: &Spent, limits: &ClientLimits) -> Result<(), Refused> {
        self.budgets_verdict(spent, limits)
            .map_err(|error| Refused { error, by_guard: false })?;
        if let Some(spend) = &spent.spend
            && let Err((cap, retry_after)) =
                crate::spend::decide(spend.totals.iter().map(|(counter, total)| (counter, *total)), spent.at)
        {
            let counter = spend.totals.iter().find(|(counter, _)| counter.cap == cap);
            tracing::warn!(
                cap = cap.name(),
                counter = counter.map_or("", |(counter, _)| counter.key.as_str()),
                retry_after,
                "spend cap reached: send refused"
            );
            self.telemetry.spend_refused(cap);
            return Err(Refused {
                error: OtpError::SpendCapped { retry_after },
                by_guard: false,
            });
        }
        let Some(GuardCount {
            watched,
            verdict: Verdict::Refuse { reason, until, .. },
            ..
        }) = &spent.guard
        else {
            return Ok(());
        };
        let enforced = watched.mode == GuardMode::Enforce;
        let retry_after = (until - spent.at).max(1) as u64;
        tracing::warn!(
            tenant = %watched.tenant,
            prefix = %watched.prefix,
            reason = reason.name(),
            mode = watched.mode.name(),
            retry_after,
            "{}",
            if enforced { "guard refused a send" } else { "guard would refuse a send" }
        );
        self.telemetry.guard(*reason, enforced);
        match enforced {
            true => Err(Refused {
                error: OtpError::RangeBlocked { retry_after },
                by_guard: true,
            }),
            false => Ok(()),
        }
    }

    /// Whether the budgets admit the request, under the client's own limits.
    fn budgets_verdict(&self, spent: &Spent, limits: &ClientLimits) -> Result<(), OtpError> {
        if let Some(error) = &spent.failure {
            return Err(error.clone().into());
        }
        let mut range_blocked = false;
        let counter_refusals: Vec<_> = spent
            .counted
            .iter()
            .filter_map(|counted| {
                let rule = match counted.kind {
                    CounterKind::Client => self.policy.client_send_quota(limits.sends_per_hour),
                    CounterKind::NumberRange => self.policy.number_range_quota(limits.sends_per_number_range_per_hour),
                };
                let refused = rule.decide(counted.count, spent.at).err();
                if refused.is_some() {
                    tracing::info!(budget = rule.name, limit = rule.limit, "send refused by a counter");
                    range_blocked |= counted.kind == CounterKind::NumberRange;
                }
                refused
            })
            .collect();
        // The request fits once every refusing budget does: the longest wait.
        let refusal = spent
            .refusals
            .iter()
            .copied()
            .chain(counter_refusals)
            .max_by_key(|exceeded| exceeded.retry_after);
        match refusal {
            // The range's own rule refused: said apart, for the dialects that name it.
            Some(exceeded) if range_blocked => Err(OtpError::RangeBlocked {
                retry_after: exceeded.retry_after.max(1),
            }),
            Some(exceeded) => Err(too_many(exceeded)),
            None => Ok(()),
        }
    }
}
