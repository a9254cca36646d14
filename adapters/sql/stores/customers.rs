use super::batch::WriterGone;
use super::rows::{self, ADDRESS_COLS, OPERATOR_COLS, USER_COLS};
use super::tx::{append_audit, in_list, Conn};
use super::{DbResultExt, SqlStore};
use crate::DIALECT;
use async_trait::async_trait;
use shop_core::address::{Address, MAX_ADDRESSES_PER_USER};
use shop_core::audit::AuditEntry;
use shop_core::cart::{CartLine, MAX_CART_LINES};
use shop_core::ids::{AddressId, OperatorId, SkuId, UserId};
use shop_core::order::Quantity;
use shop_core::ports::*;
use shop_core::text::{OpenId, Username};
use shop_core::time::Timestamp;
use shop_core::user::{Operator, OperatorSession, Role, Session, User};
use shop_sql::unique_violation;
use sqlx::Row as _;

/// Locks the user's row so that per-user limits (addresses, cart lines) are checked and
/// enforced by one transaction at a time. SQLite's single writer already serialises.
async fn lock_user(conn: &mut Conn, user: UserId) -> Result<bool, StoreError> {
    let sql = format!("SELECT id FROM users WHERE id = ?{}", DIALECT.for_update());
    Ok(sqlx::query(&sql)
        .bind(user.get())
        .fetch_optional(&mut *conn)
        .await
        .db()?
        .is_some())
}

#[async_trait]
impl UserStore for SqlStore {
    async fn find_or_create(&self, new: &User) -> Result<User, UserError> {
        if let Some(u) = self.by_openid(&new.openid).await? {
            return Ok(u);
        }
        let inserted = sqlx::query(
            "INSERT INTO users (id, openid, unionid, nickname, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(new.id.get())
        .bind(new.openid.as_str())
        .bind(new.unionid.as_deref())
        .bind(new.nickname.as_ref().map(|n| n.as_str().to_string()))
        .bind(new.created_at.millis())
        .execute(&self.write)
        .await;
        match inserted {
            Ok(_) => Ok(new.clone()),
            // A concurrent first login of the same openid won: use that user.
            Err(e) if unique_violation(&e).is_some() => self
                .by_openid(&new.openid)
                .await?
                .ok_or(UserError::NotFound),
            Err(e) => Err(shop_sql::db_err(e).into()),
        }
    }

    async fn get(&self, id: UserId) -> Result<Option<User>, UserError> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = ?"))
            .bind(id.get())
            .fetch_optional(&self.read)
            .await
            .db()?;
        Ok(row.as_ref().map(rows::user).transpose()?)
    }

    async fn by_openid(&self, openid: &OpenId) -> Result<Option<User>, UserError> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE openid = ?"))
            .bind(openid.as_str())
            .fetch_optional(&self.write)
            .await
            .db()?;
        Ok(row.as_ref().map(rows::user).transpose()?)
    }

    async fn create_session(&self, s: &Session) -> Result<(), UserError> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, wx_session_key, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
            .bind(s.token_hash.as_str())
            .bind(s.user_id.get())
            .bind(s.wx_session_key.as_deref())
            .bind(s.created_at.millis())
            .bind(s.expires_at.millis())
            .execute(&self.write)
            .await
            .db()?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<Session>, UserError> {
        Ok(self
            .batches
            .sessions
            .submit(&self.read, (token_hash.to_string(), now))
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable(
                    "the session reader has stopped".into(),
                ))
            })?)
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), UserError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.write)
            .await
            .db()?;
        Ok(())
    }

    async fn purge_sessions(&self, now: Timestamp) -> Result<u64, UserError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now.millis())
            .execute(&self.write)
            .await
            .db()?;
        Ok(done.rows_affected())
    }
}

impl SqlStore {
    async fn set_operator_field(
        &self,
        id: OperatorId,
        set_sql: &str,
        bind: OperatorValue<'_>,
        audit: &AuditEntry,
    ) -> Result<(), UserError> {
        let mut tx = self.write.begin().await.db()?;
        let sql = format!("UPDATE operators SET {set_sql}, updated_at = ? WHERE id = ?");
        let q = sqlx::query(&sql);
        let q = match bind {
            OperatorValue::Text(s) => q.bind(s),
            OperatorValue::Flag(b) => q.bind(b),
        };
        let done = q
            .bind(audit.at.millis())
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() != 1 {
            return Err(UserError::NotFound);
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(())
    }
}

enum OperatorValue<'a> {
    Text(&'a str),
    Flag(bool),
}

#[async_trait]
impl OperatorStore for SqlStore {
    async fn create(&self, op: &Operator, audit: &AuditEntry) -> Result<(), UserError> {
        let mut tx = self.write.begin().await.db()?;
        let inserted = sqlx::query(
            "INSERT INTO operators (id, username, password_hash, role, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(op.id.get())
        .bind(op.username.as_str())
        .bind(op.password_hash.as_str())
        .bind(op.role.as_str())
        .bind(op.disabled)
        .bind(op.created_at.millis())
        .bind(op.updated_at.millis())
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(e) if unique_violation(&e).is_some() => return Err(UserError::Duplicate),
            Err(e) => return Err(shop_sql::db_err(e).into()),
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn get(&self, id: OperatorId) -> Result<Option<Operator>, UserError> {
        let row = sqlx::query(&format!(
            "SELECT {OPERATOR_COLS} FROM operators WHERE id = ?"
        ))
        .bind(id.get())
        .fetch_optional(&self.read)
        .await
        .db()?;
        Ok(row.as_ref().map(rows::operator).transpose()?)
    }

    async fn by_username(&self, username: &Username) -> Result<Option<Operator>, UserError> {
        let row = sqlx::query(&format!(
            "SELECT {OPERATOR_COLS} FROM operators WHERE username = ?"
        ))
        .bind(username.as_str())
        .fetch_optional(&self.read)
        .await
        .db()?;
        Ok(row.as_ref().map(rows::operator).transpose()?)
    }

    async fn list(&self) -> Result<Vec<Operator>, UserError> {
        let rows = sqlx::query(&format!(
            "SELECT {OPERATOR_COLS} FROM operators ORDER BY username"
        ))
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::operator).collect::<Result<_, _>>()?)
    }

    async fn count(&self) -> Result<i64, UserError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM operators")
            .fetch_one(&self.read)
            .await
            .db()?;
        Ok(row.try_get("n").db()?)
    }

    async fn set_role(
        &self,
        id: OperatorId,
        role: Role,
        audit: &AuditEntry,
    ) -> Result<(), UserError> {
        self.set_operator_field(id, "role = ?", OperatorValue::Text(role.as_str()), audit)
            .await
    }

    async fn set_password(
        &self,
        id: OperatorId,
        password_hash: &str,
        audit: &AuditEntry,
    ) -> Result<(), UserError> {
        self.set_operator_field(
            id,
            "password_hash = ?",
            OperatorValue::Text(password_hash),
            audit,
        )
        .await
    }

    async fn set_disabled(
        &self,
        id: OperatorId,
        disabled: bool,
        audit: &AuditEntry,
    ) -> Result<(), UserError> {
        self.set_operator_field(id, "disabled = ?", OperatorValue::Flag(disabled), audit)
            .await
    }

    async fn create_session(&self, s: &OperatorSession) -> Result<(), UserError> {
        sqlx::query("INSERT INTO operator_sessions (token_hash, operator_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(s.token_hash.as_str())
            .bind(s.operator_id.get())
            .bind(s.created_at.millis())
            .bind(s.expires_at.millis())
            .execute(&self.write)
            .await
            .db()?;
        Ok(())
    }

    async fn session(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<OperatorSession>, UserError> {
        let row = sqlx::query(
            "SELECT token_hash, operator_id, created_at, expires_at FROM operator_sessions WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(now.millis())
        .fetch_optional(&self.read)
        .await
        .db()?;
        Ok(row.as_ref().map(rows::operator_session).transpose()?)
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), UserError> {
        sqlx::query("DELETE FROM operator_sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.write)
            .await
            .db()?;
        Ok(())
    }
}

async fn fetch_address(
    conn: &mut Conn,
    user: UserId,
    id: AddressId,
) -> Result<Option<Address>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {ADDRESS_COLS} FROM addresses WHERE id = ? AND user_id = ?"
    ))
    .bind(id.get())
    .bind(user.get())
    .fetch_optional(&mut *conn)
    .await
    .db()?;
    row.as_ref().map(rows::address).transpose()
}

async fn clear_default(conn: &mut Conn, user: UserId, except: AddressId) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE addresses SET is_default = ? WHERE user_id = ? AND is_default = ? AND id <> ?",
    )
    .bind(false)
    .bind(user.get())
    .bind(true)
    .bind(except.get())
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

#[async_trait]
impl AddressStore for SqlStore {
    async fn list(&self, user: UserId) -> Result<Vec<Address>, AddressError> {
        let rows = sqlx::query(&format!(
            "SELECT {ADDRESS_COLS} FROM addresses WHERE user_id = ? ORDER BY is_default DESC, updated_at DESC, id DESC"
        ))
        .bind(user.get())
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::address).collect::<Result<_, _>>()?)
    }

    async fn get(&self, user: UserId, id: AddressId) -> Result<Option<Address>, AddressError> {
        self.batches
            .addresses
            .submit(&self.read, (user, id))
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable("the address reader has stopped".into()).into())
            })
    }

    async fn create(&self, a: &Address) -> Result<Address, AddressError> {
        let mut tx = self.write.begin().await.db()?;
        if !lock_user(&mut tx, a.user_id).await? {
            return Err(AddressError::NotFound);
        }
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM addresses WHERE user_id = ?")
            .bind(a.user_id.get())
            .fetch_one(&mut *tx)
            .await
            .db()?
            .try_get("n")
            .db()?;
        if n >= MAX_ADDRESSES_PER_USER as i64 {
            return Err(AddressError::LimitReached(MAX_ADDRESSES_PER_USER));
        }
        let mut stored = a.clone();
        stored.is_default = a.is_default || n == 0;
        if stored.is_default {
            clear_default(&mut tx, a.user_id, a.id).await?;
        }
        let f = &a.fields;
        sqlx::query(
            "INSERT INTO addresses (id, user_id, receiver, phone, province, city, district, detail, is_default, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(a.id.get())
        .bind(a.user_id.get())
        .bind(f.receiver.as_str())
        .bind(f.phone.as_str())
        .bind(f.province.as_str())
        .bind(f.city.as_str())
        .bind(f.district.as_str())
        .bind(f.detail.as_str())
        .bind(stored.is_default)
        .bind(a.created_at.millis())
        .bind(a.updated_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(stored)
    }

    async fn update(&self, a: &Address) -> Result<Address, AddressError> {
        let mut tx = self.write.begin().await.db()?;
        lock_user(&mut tx, a.user_id).await?;
        let Some(current) = fetch_address(&mut tx, a.user_id, a.id).await? else {
            return Err(AddressError::NotFound);
        };
        let mut stored = a.clone();
        stored.created_at = current.created_at;
        // The default can move to another address but never disappear.
        stored.is_default = a.is_default || current.is_default;
        if stored.is_default {
            clear_default(&mut tx, a.user_id, a.id).await?;
        }
        let f = &a.fields;
        sqlx::query(
            "UPDATE addresses SET receiver = ?, phone = ?, province = ?, city = ?, district = ?, detail = ?, is_default = ?, updated_at = ? \
             WHERE id = ? AND user_id = ?",
        )
        .bind(f.receiver.as_str())
        .bind(f.phone.as_str())
        .bind(f.province.as_str())
        .bind(f.city.as_str())
        .bind(f.district.as_str())
        .bind(f.detail.as_str())
        .bind(stored.is_default)
        .bind(a.updated_at.millis())
        .bind(a.id.get())
        .bind(a.user_id.get())
        .execute(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(stored)
    }

    async fn delete(&self, user: UserId, id: AddressId) -> Result<(), AddressError> {
        let mut tx = self.write.begin().await.db()?;
        lock_user(&mut tx, user).await?;
        let Some(current) = fetch_address(&mut tx, user, id).await? else {
            return Err(AddressError::NotFound);
        };
        sqlx::query("DELETE FROM addresses WHERE id = ? AND user_id = ?")
            .bind(id.get())
            .bind(user.get())
            .execute(&mut *tx)
            .await
            .db()?;
        if current.is_default {
            let next = sqlx::query("SELECT id FROM addresses WHERE user_id = ? ORDER BY updated_at DESC, id DESC LIMIT 1")
                .bind(user.get())
                .fetch_optional(&mut *tx)
                .await
                .db()?;
            if let Some(row) = next {
                let next_id: i64 = row.try_get("id").db()?;
                sqlx::query("UPDATE addresses SET is_default = ? WHERE id = ?")
                    .bind(true)
                    .bind(next_id)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
        }
        tx.commit().await.db()?;
        Ok(())
    }
}

#[async_trait]
impl CartStore for SqlStore {
    async fn lines(&self, user: UserId) -> Result<Vec<CartLine>, CartError> {
        let rows = sqlx::query(
            "SELECT user_id, sku_id, quantity, updated_at FROM cart_items WHERE user_id = ? ORDER BY created_at, sku_id",
        )
        .bind(user.get())
        .fetch_all(&self.read)
        .await
        .db()?;
        Ok(rows.iter().map(rows::cart_line).collect::<Result<_, _>>()?)
    }

    async fn set(
        &self,
        user: UserId,
        sku: SkuId,
        quantity: Quantity,
        at: Timestamp,
    ) -> Result<(), CartError> {
        let mut tx = self.write.begin().await.db()?;
        lock_user(&mut tx, user).await?;
        let updated = sqlx::query(
            "UPDATE cart_items SET quantity = ?, updated_at = ? WHERE user_id = ? AND sku_id = ?",
        )
        .bind(quantity.get())
        .bind(at.millis())
        .bind(user.get())
        .bind(sku.get())
        .execute(&mut *tx)
        .await
        .db()?;
        if updated.rows_affected() == 0 {
            let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM cart_items WHERE user_id = ?")
                .bind(user.get())
                .fetch_one(&mut *tx)
                .await
                .db()?
                .try_get("n")
                .db()?;
            if n >= MAX_CART_LINES as i64 {
                return Err(CartError::LimitReached(MAX_CART_LINES));
            }
            sqlx::query("INSERT INTO cart_items (user_id, sku_id, quantity, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
                .bind(user.get())
                .bind(sku.get())
                .bind(quantity.get())
                .bind(at.millis())
                .bind(at.millis())
                .execute(&mut *tx)
                .await
                .db()?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    async fn remove(&self, user: UserId, skus: &[SkuId]) -> Result<u64, CartError> {
        if skus.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "DELETE FROM cart_items WHERE user_id = ? AND sku_id IN ({})",
            in_list(skus.len())
        );
        let mut q = sqlx::query(&sql).bind(user.get());
        for s in skus {
            q = q.bind(s.get());
        }
        Ok(q.execute(&self.write).await.db()?.rows_affected())
    }
}
