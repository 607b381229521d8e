//! The store's reads that start together leave as one request, a `BatchGetItem`; and a
//! reader never waits on another that is gone.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use otp_shared::destination::Destination;
use otp_shared::ports::UserDirectory;
use otp_shared::scope::{Product, Realm, UserRef};
use otp_tests::{Deployment, fresh_email};

use crate::round_trips::{BATCH, expected};

/// Two addresses, each linked to its own user.
async fn linked(deployment: &Deployment) -> [(Destination, UserRef); 2] {
    let mut pairs = Vec::new();
    for name in ["first", "second"] {
        let address = Destination::email(&fresh_email()).expect("valid address");
        let user = UserRef::new(
            Product::Kgen,
            "batched-reads",
            format!("{name}-{}", uuid::Uuid::new_v4().simple()),
        );
        deployment
            .store
            .link(&address, &user, 1_700_000_000)
            .await
            .expect("linked");
        pairs.push((address, user));
    }
    pairs.try_into().expect("two pairs")
}

/// The realm of the users `linked` makes.
fn realm() -> Realm {
    Realm::new(Product::Kgen, "batched-reads")
}

/// Polls a future once, as an executor would.
async fn poll_once<F: Future>(future: &mut Pin<Box<F>>) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

#[tokio::test]
async fn reads_started_together_leave_as_one_request() {
    let deployment = Deployment::new().await;
    let [(first, first_user), (second, second_user)] = linked(&deployment).await;
    let store = &deployment.store;
    let realm = realm();

    let unknown = Destination::email(&fresh_email()).expect("valid address");
    deployment.meter.reset();
    let (first_owner, second_owner, nobody) = tokio::join!(
        store.owner_of(&realm, &first),
        store.owner_of(&realm, &second),
        store.owner_of(&realm, &unknown),
    );
    assert_eq!(first_owner, Ok(Some(first_user.clone())));
    assert_eq!(second_owner, Ok(Some(second_user.clone())));
    assert_eq!(nobody, Ok(None));
    assert_eq!(deployment.meter.usage(), expected(&[(BATCH, 1)], 1, 1));

    // One key asked twice is read once (DynamoDB refuses a batch that names a key twice).
    deployment.meter.reset();
    let (once, twice) = tokio::join!(store.owner_of(&realm, &first), store.owner_of(&realm, &first));
    assert_eq!(once, Ok(Some(first_user.clone())));
    assert_eq!(twice, once);
    assert_eq!(deployment.meter.usage(), expected(&[(BATCH, 1)], 1, 1));

    // Reads started one after the other are not held back for each other.
    deployment.meter.reset();
    assert_eq!(store.owner_of(&realm, &first).await, Ok(Some(first_user)));
    assert_eq!(store.owner_of(&realm, &second).await, Ok(Some(second_user)));
    assert_eq!(deployment.meter.usage(), expected(&[(BATCH, 2)], 2, 2));
}

#[tokio::test]
async fn a_reader_is_answered_when_the_reader_that_sent_its_batch_is_cancelled() {
    let deployment = Deployment::new().await;
    let [(first, first_user), (second, second_user)] = linked(&deployment).await;
    let store = &deployment.store;
    let realm = realm();

    let mut cancelled = Box::pin(store.owner_of(&realm, &first));
    let mut kept = Box::pin(store.owner_of(&realm, &second));
    // Both join one batch...
    assert!(poll_once(&mut cancelled).await.is_pending());
    assert!(poll_once(&mut kept).await.is_pending());
    // ...which the first takes and sends; then it is dropped, its request in flight.
    assert!(poll_once(&mut cancelled).await.is_pending());
    drop(cancelled);

    let answer = tokio::time::timeout(Duration::from_secs(10), kept)
        .await
        .expect("the kept reader is answered, not left waiting");
    assert_eq!(answer, Ok(Some(second_user)));

    // A reader dropped before its batch is sent leaves the batch to the others.
    let mut gone = Box::pin(store.owner_of(&realm, &second));
    let mut kept = Box::pin(store.owner_of(&realm, &first));
    assert!(poll_once(&mut gone).await.is_pending());
    assert!(poll_once(&mut kept).await.is_pending());
    drop(gone);
    deployment.meter.reset();
    assert_eq!(kept.await, Ok(Some(first_user)));
    assert_eq!(deployment.meter.usage(), expected(&[(BATCH, 1)], 1, 1));
    assert_eq!(deployment.meter.reads_naming(&second.key()), 0, "the gone reader's key");
}
