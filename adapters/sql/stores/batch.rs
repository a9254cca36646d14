//! Group commit for the hottest writes: many concurrent requests share one transaction.
//!
//! A request hands its write to a [`Combiner`] and waits for its own answer. A few writer
//! tasks each take whatever is waiting (up to [`MAX_BATCH`]) and run it as **one** batch: a
//! handful of multi-row statements and one commit instead of a handful per request. Under load
//! that divides the database round trips and the durable commits by the batch size; when the
//! shop is quiet every batch holds one request and costs what it did before.
//!
//! A batch is all or nothing. When it fails for a reason that concerns one of its requests
//! (a SKU that cannot cover the batch, a key already used), it is rolled back and every
//! request runs again on its own, so each gets exactly the answer it would have had alone.
//! The only thing a request cannot tell apart is a failed commit (see `orders.rs`).
//!
//! A write handed over runs even if the request that handed it over goes away (the client
//! hangs up): the order is created and the idempotency key replays it, instead of a
//! half-done request leaving a held stock reservation behind.

use crate::Db;
use sqlx::Pool;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot};

/// At most this many requests share a transaction (keeps statements far below the
/// placeholder limits of both databases, and one failed batch cheap to replay).
pub(crate) const MAX_BATCH: usize = 32;

/// Requests waiting for a writer; beyond this, callers wait to hand theirs over.
const QUEUE: usize = 4096;

type Reply<R> = oneshot::Sender<R>;
type Sender<J, R> = mpsc::Sender<(J, Reply<R>)>;
type Receiver<J, R> = Arc<tokio::sync::Mutex<mpsc::Receiver<(J, Reply<R>)>>>;

/// What a batch function returns: one result per job, in order.
pub(crate) type Batched<R> = Pin<Box<dyn Future<Output = Vec<R>> + Send>>;

/// Runs one batch.
pub(crate) type RunBatch<J, R> = fn(Pool<Db>, Vec<J>) -> Batched<R>;

/// Hands jobs to `writers` tasks that run them in batches with `run`.
pub(crate) struct Combiner<J, R> {
    writers: usize,
    run: RunBatch<J, R>,
    queue: Mutex<Option<Sender<J, R>>>,
}

impl<J, R> fmt::Debug for Combiner<J, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Combiner")
            .field("writers", &self.writers)
            .finish_non_exhaustive()
    }
}

/// The writer tasks are gone (the runtime is shutting down).
#[derive(Debug)]
pub(crate) struct WriterGone;

impl<J: Send + 'static, R: Send + 'static> Combiner<J, R> {
    pub(crate) fn new(writers: usize, run: RunBatch<J, R>) -> Self {
        Combiner {
            writers: writers.max(1),
            run,
            queue: Mutex::new(None),
        }
    }

    /// Runs `job` in the next batch and returns its own result.
    pub(crate) async fn submit(&self, pool: &Pool<Db>, job: J) -> Result<R, WriterGone> {
        let (reply, answer) = oneshot::channel();
        let mut item = (job, reply);
        // Writers live on the runtime that first needed them. If that runtime is gone (a
        // test harness that builds one runtime per test around a shared store), the queue is
        // closed: start new writers here and hand the job over again.
        for _ in 0..2 {
            let sender = self.sender(pool);
            match sender.send(item).await {
                Ok(()) => return answer.await.map_err(|_| WriterGone),
                Err(mpsc::error::SendError(back)) => {
                    item = back;
                    let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                    if queue.as_ref().is_some_and(|q| q.same_channel(&sender)) {
                        *queue = None;
                    }
                }
            }
        }
        Err(WriterGone)
    }

    fn sender(&self, pool: &Pool<Db>) -> Sender<J, R> {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(q) = queue.as_ref() {
            return q.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let rx: Receiver<J, R> = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..self.writers {
            tokio::spawn(write_loop(rx.clone(), pool.clone(), self.run));
        }
        *queue = Some(tx.clone());
        tx
    }
}

/// One writer: takes what is waiting, runs it as a batch, answers each request. Ends when
/// every sender is gone (the store was dropped).
async fn write_loop<J, R>(rx: Receiver<J, R>, pool: Pool<Db>, run: RunBatch<J, R>) {
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut batch = Vec::with_capacity(MAX_BATCH);
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
            batch
        };
        let (jobs, replies): (Vec<J>, Vec<Reply<R>>) = batch.into_iter().unzip();
        let results = run(pool.clone(), jobs).await;
        debug_assert_eq!(results.len(), replies.len());
        for (reply, result) in replies.into_iter().zip(results) {
            // A caller that went away no longer needs its answer; its write is done.
            let _ = reply.send(result);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::DIALECT;
    use shop_sql::Dialect;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    static BATCHES: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    static RUNNING: AtomicUsize = AtomicUsize::new(0);

    /// Doubles each job after a pause long enough for more requests to queue behind it.
    fn slow_double(_: Pool<Db>, jobs: Vec<u32>) -> Batched<u32> {
        Box::pin(async move {
            assert_eq!(RUNNING.fetch_add(1, Ordering::SeqCst), 0, "one writer");
            BATCHES.lock().unwrap().push(jobs.len());
            tokio::time::sleep(Duration::from_millis(100)).await;
            RUNNING.fetch_sub(1, Ordering::SeqCst);
            jobs.into_iter().map(|j| j * 2).collect()
        })
    }

    fn lazy_pool() -> Pool<Db> {
        // Never connects: the batch function above does not use it.
        let url = match DIALECT {
            Dialect::Sqlite => "sqlite::memory:",
            Dialect::MySql => "mysql://root@127.0.0.1:3306/test",
        };
        Pool::<Db>::connect_lazy(url).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_requests_share_a_batch_and_each_gets_its_own_answer() {
        let combiner = Arc::new(Combiner::new(1, slow_double as RunBatch<u32, u32>));
        let pool = lazy_pool();
        let first = {
            let (c, p) = (combiner.clone(), pool.clone());
            tokio::spawn(async move { c.submit(&p, 1).await.unwrap() })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        let rest: Vec<_> = (2..=40)
            .map(|j| {
                let (c, p) = (combiner.clone(), pool.clone());
                tokio::spawn(async move { (j, c.submit(&p, j).await.unwrap()) })
            })
            .collect();
        assert_eq!(first.await.unwrap(), 2);
        for t in rest {
            let (job, answer) = t.await.unwrap();
            assert_eq!(answer, job * 2, "each request gets its own result");
        }
        let batches = BATCHES.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 40);
        assert_eq!(batches[0], 1, "the first request did not wait for company");
        assert!(
            batches.len() <= 3 && batches.iter().all(|n| *n <= MAX_BATCH),
            "the 39 requests that queued behind it went in full batches: {batches:?}"
        );
    }
}
