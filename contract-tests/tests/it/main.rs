//! The contract suites. Each test body is written once and runs against every adapter:
//! `db_contract!` generates a SQLite (+ memory gate) and a MySQL (+ Redis gate) test per body,
//! `gate_contract!` a memory and a Redis test per body.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// One test per body and database backend.
macro_rules! db_contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let env = shop_contract_tests::Env::new(
                        shop_contract_tests::TestDb::sqlite().await,
                        shop_contract_tests::TestGate::memory(),
                    );
                    super::$name(env).await
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let env = shop_contract_tests::Env::new(
                        shop_contract_tests::TestDb::mysql().await,
                        shop_contract_tests::TestGate::redis(),
                    );
                    super::$name(env).await
                }
            )*
        }
    };
}

/// One test per body and stock gate.
macro_rules! gate_contract {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(shop_contract_tests::TestGate::memory()).await
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(shop_contract_tests::TestGate::redis()).await
                }
            )*
        }
    };
}

mod events;
mod gate;
mod orders;
mod oversell;
mod payments;
