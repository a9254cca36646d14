//! Who did what: the actor type shared by refunds and the audit log, and the audit log's hash
//! chain. Every audit row carries the hash of the one before it, so editing or deleting a row
//! breaks the chain from that row on, and [`verify_chain`] names the first broken row.

use crate::ids::{OperatorId, UserId};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Who caused a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    User {
        id: UserId,
    },
    Operator {
        id: OperatorId,
        username: String,
    },
    /// A job or rule of the shop itself, e.g. `expire-unpaid` or `late-payment`.
    System {
        name: String,
    },
}

impl Actor {
    pub fn system(name: &str) -> Actor {
        Actor::System {
            name: name.to_string(),
        }
    }

    /// `user:7`, `operator:3:admin`, `system:expire-unpaid` — the stored form.
    pub fn encode(&self) -> String {
        match self {
            Actor::User { id } => format!("user:{id}"),
            Actor::Operator { id, username } => format!("operator:{id}:{username}"),
            Actor::System { name } => format!("system:{name}"),
        }
    }

    pub fn decode(s: &str) -> Option<Actor> {
        let (kind, rest) = s.split_once(':')?;
        match kind {
            "user" => rest.parse().ok().map(|id| Actor::User { id }),
            "operator" => {
                let (id, username) = rest.split_once(':')?;
                Some(Actor::Operator {
                    id: id.parse().ok()?,
                    username: username.to_string(),
                })
            }
            "system" => Some(Actor::System {
                name: rest.to_string(),
            }),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// An audit entry before it is appended: the store assigns `seq` and the hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor: Actor,
    /// `refund.approve`, `order.cancel`, `sku.price`, `sku.stock`, `operator.role` …
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// An appended audit row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of the row before the first one.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 over the previous hash and every field of the row, in a fixed order with lengths,
/// so no two different rows can produce the same input.
pub fn chain_hash(prev_hash: &str, seq: i64, e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let parts = [
        prev_hash.to_string(),
        seq.to_string(),
        e.at.millis().to_string(),
        e.actor.encode(),
        e.action.clone(),
        e.target_type.clone(),
        e.target_id.clone(),
        e.before.to_string(),
        e.after.to_string(),
    ];
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("row {seq}: sequence gap, expected {expected} (a row was deleted)")]
    Gap { seq: i64, expected: i64 },
    #[error("row {seq}: prev_hash does not match the row before (a row was deleted or replaced)")]
    Link { seq: i64 },
    #[error("row {seq}: content does not match its hash (the row was edited)")]
    Content { seq: i64 },
}

/// Checks a run of consecutive rows, starting after a row with `prev` hash and sequence
/// `prev_seq`. Returns the last hash and seq to continue with the next page.
pub fn verify_chain(
    prev_seq: i64,
    prev: &str,
    rows: &[AuditRecord],
) -> Result<(i64, String), ChainBreak> {
    let mut seq = prev_seq;
    let mut hash = prev.to_string();
    for r in rows {
        if r.seq != seq + 1 {
            return Err(ChainBreak::Gap {
                seq: r.seq,
                expected: seq + 1,
            });
        }
        if r.prev_hash != hash {
            return Err(ChainBreak::Link { seq: r.seq });
        }
        if chain_hash(&r.prev_hash, r.seq, &r.entry) != r.hash {
            return Err(ChainBreak::Content { seq: r.seq });
        }
        seq = r.seq;
        hash = r.hash.clone();
    }
    Ok((seq, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let entry = AuditEntry {
                    at: Timestamp::from_millis(seq),
                    actor: Actor::system("test"),
                    action: "sku.stock".into(),
                    target_type: "sku".into(),
                    target_id: seq.to_string(),
                    before: serde_json::json!({"on_hand": seq}),
                    after: serde_json::json!({"on_hand": seq + 1}),
                };
                let hash = chain_hash(&prev, seq, &entry);
                let r = AuditRecord {
                    seq,
                    entry,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                r
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        let rows = chain(5);
        let (seq, hash) = verify_chain(0, GENESIS_HASH, &rows).unwrap();
        assert_eq!(seq, 5);
        assert_eq!(hash, rows[4].hash);
    }

    #[test]
    fn edits_and_deletions_are_found() {
        let mut edited = chain(5);
        edited[2].entry.after = serde_json::json!({"on_hand": 999});
        assert_eq!(
            verify_chain(0, GENESIS_HASH, &edited),
            Err(ChainBreak::Content { seq: 3 })
        );

        let mut deleted = chain(5);
        deleted.remove(2);
        assert_eq!(
            verify_chain(0, GENESIS_HASH, &deleted),
            Err(ChainBreak::Gap {
                seq: 4,
                expected: 3
            })
        );

        // Deleting the last row and renumbering cannot hide either: the link breaks.
        let mut relinked = chain(5);
        relinked.remove(1);
        for (i, r) in relinked.iter_mut().enumerate() {
            r.seq = i as i64 + 1;
        }
        assert_eq!(
            verify_chain(0, GENESIS_HASH, &relinked),
            Err(ChainBreak::Link { seq: 2 })
        );
    }

    #[test]
    fn actor_round_trip() {
        for a in [
            Actor::User {
                id: UserId::new(7).unwrap(),
            },
            Actor::Operator {
                id: OperatorId::new(3).unwrap(),
                username: "finance.li".into(),
            },
            Actor::system("expire-unpaid"),
        ] {
            assert_eq!(Actor::decode(&a.encode()), Some(a));
        }
    }
}
