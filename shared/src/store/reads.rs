//! Reads that start together leave together. A request's first round trip reads several
//! items beside its writes (its caller's client record, a configuration, a challenge, the
//! registry's contact and user), each where its port needs it. The gets started in one
//! turn of the executor go out as one `BatchGetItem` (strongly consistent, like a
//! `GetItem`; read units are the same): one request instead of several costs the function
//! less CPU, and a new instance opens fewer connections for its first request.
//!
//! A read alone is a `BatchGetItem` of one key too: the same read unit and round trip as a
//! `GetItem`, and the functions link one read operation of the SDK instead of two (each
//! operation's code is tens of kilobytes of every bootstrap).
//!
//! Each item of a batch is read as a `GetItem` would read it, committed writes only; the
//! batch as a whole is no snapshot of its items, as separate gets were not. Nothing here
//! needs one: every write made from what was read is conditional on it.
//!
//! How: a get adds its key to the open batch and yields once, so that the futures polled
//! beside it (the other arms of a `join!`) add theirs; the first of the batch's readers
//! to run again closes it, sends it and answers every reader. A reader whose batch was
//! taken by a reader that was then cancelled reads its item alone: no reader waits on
//! another that is gone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::types::KeysAndAttributes;
use tokio::sync::oneshot;

use aws_sdk_dynamodb::Client;

use crate::ports::{Outage, StoreError};

use super::attributes::{Item, PK, get_s, s};
use super::failures::{back_off, unavailable};

/// DynamoDB's most keys in one `BatchGetItem`.
const MAX_BATCH_KEYS: usize = 100;
/// Sends of the keys DynamoDB left unprocessed (it does under throttling) before their
/// readers are told the store is throttled.
const BATCH_TRIES: u32 = 3;

type Answer = Result<Option<Item>, StoreError>;
type Reply = oneshot::Sender<Answer>;

/// The batch that gets are joining, shared by every clone of the store.
#[derive(Clone, Default)]
pub(super) struct ReadBatches {
    state: Arc<Mutex<Batches>>,
}

/// The open batch: its number, and its reads (none yet when no get has joined it).
#[derive(Default)]
struct Batches {
    number: u64,
    readers: Vec<(String, Reply)>,
}

impl std::fmt::Debug for ReadBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadBatches")
    }
}

impl ReadBatches {
    /// Adds a read to the open batch, and names that batch.
    fn join(&self, key: String, reply: Reply) -> u64 {
        let mut batches = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        batches.readers.push((key, reply));
        batches.number
    }

    /// Closes batch `number` and returns its reads, if it is still open (no other reader
    /// took it first); the next get opens the next batch. Reads whose reader is gone are
    /// left out.
    fn take(&self, number: u64) -> Option<Vec<(String, Reply)>> {
        let mut batches = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if batches.number != number {
            return None;
        }
        batches.number += 1;
        let readers = std::mem::take(&mut batches.readers);
        Some(readers.into_iter().filter(|(_, reply)| !reply.is_closed()).collect())
    }
}

/// An item's key, as a read names it.
fn key(pk: &str) -> Item {
    HashMap::from([(PK.to_owned(), s(pk))])
}

/// The distinct keys of a batch, in the order first asked.
fn distinct_keys(readers: &[(String, Reply)]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(readers.len());
    for (key, _) in readers {
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    keys
}

/// Each key's answer: its item when found, nothing when DynamoDB processed it and found
/// none, and the store's throttling when it was still unprocessed after every try.
fn answers(keys: Vec<String>, mut found: HashMap<String, Item>, unprocessed: &[String]) -> HashMap<String, Answer> {
    keys.into_iter()
        .map(|key| {
            let answer = if unprocessed.contains(&key) {
                Err(StoreError::Unavailable {
                    outage: Outage::Throttled,
                    detail: "BatchGetItem left the key unprocessed after every try".to_owned(),
                })
            } else {
                Ok(found.remove(&key))
            };
            (key, answer)
        })
        .collect()
}

/// The table a batch reads.
#[derive(Clone, Copy)]
struct Table<'a> {
    client: &'a Client,
    name: &'a str,
}

impl ReadBatches {
    /// One item of `table` by key, strongly consistent, read in one request with the
    /// other gets started at the same time.
    pub(super) async fn get(&self, client: &Client, table: &str, pk: String) -> Answer {
        let table = Table { client, name: table };
        let (reply, answer) = oneshot::channel();
        let batch = self.join(pk.clone(), reply);
        // Let the futures polled beside this one add their reads.
        tokio::task::yield_now().await;
        if let Some(readers) = self.take(batch) {
            table.send_batch(readers).await;
        }
        match answer.await {
            Ok(answer) => answer,
            // The reader that took the batch was cancelled before it answered.
            Err(_) => table.batch_get(vec![pk.clone()]).await.remove(&pk).unwrap_or(Ok(None)),
        }
    }
}

impl Table<'_> {
    /// Reads a batch's items and answers each of its readers.
    async fn send_batch(self, readers: Vec<(String, Reply)>) {
        let keys = distinct_keys(&readers);
        let answers = self.batch_get(keys).await;
        for (key, reply) in readers {
            let answer = answers.get(&key).cloned().unwrap_or(Ok(None));
            // A reader that is gone needs no answer.
            let _ = reply.send(answer);
        }
    }

    /// Reads up to `MAX_BATCH_KEYS` keys per request, the requests together.
    async fn batch_get(self, keys: Vec<String>) -> HashMap<String, Answer> {
        let chunks = keys
            .chunks(MAX_BATCH_KEYS)
            .map(|chunk| self.batch_get_chunk(chunk.to_vec()));
        let mut answers = HashMap::with_capacity(keys.len());
        for chunk in futures_util::future::join_all(chunks).await {
            answers.extend(chunk);
        }
        answers
    }

    async fn batch_get_chunk(self, keys: Vec<String>) -> HashMap<String, Answer> {
        let mut found: HashMap<String, Item> = HashMap::with_capacity(keys.len());
        let mut wanted = keys.clone();
        for try_number in 0..BATCH_TRIES {
            if try_number > 0 {
                back_off(try_number - 1).await;
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(wanted.iter().map(|pk| key(pk)).collect()))
                .consistent_read(true)
                .build()
                .expect("keys are set");
            let output = match self
                .client
                .batch_get_item()
                .request_items(self.name, request)
                .send()
                .await
            {
                Ok(output) => output,
                Err(error) => {
                    let error = unavailable(error);
                    return keys.into_iter().map(|key| (key, Err(error.clone()))).collect();
                }
            };
            let items = output.responses.and_then(|mut tables| tables.remove(self.name));
            for item in items.unwrap_or_default() {
                if let Some(pk) = get_s(&item, PK) {
                    found.insert(pk.to_owned(), item);
                }
            }
            wanted = output
                .unprocessed_keys
                .and_then(|mut tables| tables.remove(self.name))
                .map(|left| {
                    left.keys
                        .iter()
                        .filter_map(|key| get_s(key, PK).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if wanted.is_empty() {
                break;
            }
        }
        answers(keys, found, &wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of a taken batch, in order.
    fn keys(taken: &[(String, Reply)]) -> Vec<&str> {
        taken.iter().map(|(key, _)| key.as_str()).collect()
    }

    #[test]
    fn reads_started_together_share_a_batch_that_one_of_them_takes() {
        let batches = ReadBatches::default();
        let (first, _first_answer) = oneshot::channel();
        let (second, _second_answer) = oneshot::channel();
        let number = batches.join("CLIENT#a".to_owned(), first);
        assert_eq!(batches.join("CONFIG#b".to_owned(), second), number);

        let taken = batches.take(number).expect("the batch is open");
        assert_eq!(keys(&taken), ["CLIENT#a", "CONFIG#b"]);
        // The other reader finds it taken and waits for its answer.
        assert!(batches.take(number).is_none());
    }

    #[test]
    fn a_read_after_a_batch_is_taken_opens_the_next() {
        let batches = ReadBatches::default();
        let (first, _first_answer) = oneshot::channel();
        let number = batches.join("USER#a".to_owned(), first);
        batches.take(number).expect("open");
        let (second, _second_answer) = oneshot::channel();
        let next = batches.join("USER#b".to_owned(), second);
        assert_ne!(next, number);
        // A reader of the old batch does not take the new one.
        assert!(batches.take(number).is_none());
        assert_eq!(batches.take(next).expect("open").len(), 1);
    }

    #[test]
    fn reads_whose_reader_is_gone_are_left_out() {
        let batches = ReadBatches::default();
        let (gone, gone_answer) = oneshot::channel();
        let (kept, _kept_answer) = oneshot::channel();
        let number = batches.join("CONTACT#+15551234567".to_owned(), gone);
        batches.join("USER#a".to_owned(), kept);
        drop(gone_answer);
        let taken = batches.take(number).expect("open");
        assert_eq!(keys(&taken), ["USER#a"]);
    }

    #[test]
    fn a_key_asked_twice_is_read_once() {
        let (a, _) = oneshot::channel();
        let (b, _) = oneshot::channel();
        let (c, _) = oneshot::channel();
        let readers = vec![("K#1".to_owned(), a), ("K#2".to_owned(), b), ("K#1".to_owned(), c)];
        assert_eq!(distinct_keys(&readers), ["K#1", "K#2"]);
    }

    #[test]
    fn every_key_is_answered_found_missing_or_throttled() {
        let keys = vec!["K#found".to_owned(), "K#missing".to_owned(), "K#left".to_owned()];
        let found = HashMap::from([("K#found".to_owned(), key("K#found"))]);
        let answers = answers(keys, found, &["K#left".to_owned()]);
        assert_eq!(answers["K#found"], Ok(Some(key("K#found"))));
        assert_eq!(answers["K#missing"], Ok(None));
        assert!(matches!(
            answers["K#left"],
            Err(StoreError::Unavailable {
                outage: Outage::Throttled,
                ..
            })
        ));
    }
}
