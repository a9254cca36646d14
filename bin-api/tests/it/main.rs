//! The API over HTTP: the real server started as `main` starts it, on a random port, on SQLite
//! and on MySQL + Redis.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

/// One test per body and backend: `sqlite` (embedded default) and `mysql` (with Redis).
macro_rules! api_test {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::support::TestApp::sqlite().await).await
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(crate::support::TestApp::mysql_redis().await).await
                }
            )*
        }
    };
}

mod admin;
mod bad_input;
mod concurrency;
mod contract;
mod payments;
mod walkthrough;
