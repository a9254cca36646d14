use super::batch::WriterGone;
use super::rows::{self, COVER_SUBQUERY, SKU_COLS};
use super::tx::{append_audit, in_list};
use super::{DbResultExt, SqlStore};
use crate::DIALECT;
use async_trait::async_trait;
use shop_core::audit::AuditEntry;
use shop_core::catalogue::{Product, ProductImage, ProductStatus, ProductSummary, Sku, SkuForSale};
use shop_core::ids::{ImageId, ProductId, SkuId};
use shop_core::inventory::Stock;
use shop_core::ports::{
    CatalogueError, CatalogueStore, Page, Paged, ProductQuery, StockChange, StoreError,
};
use shop_sql::like_contains;
use sqlx::Row as _;

/// Shelf columns: the product plus its cover, lowest enabled price and whether any enabled SKU
/// has stock, computed in the database so a page is one query.
fn summary_select() -> String {
    format!(
        "SELECT p.id, p.title, p.status, p.sort, p.updated_at, {COVER_SUBQUERY} AS cover_url, \
         (SELECT MIN(s.price_fen) FROM skus s WHERE s.product_id = p.id AND s.enabled = ?) AS min_price, \
         (SELECT COUNT(*) FROM skus s JOIN inventory i ON i.sku_id = s.id \
            WHERE s.product_id = p.id AND s.enabled = ? AND i.on_hand > i.reserved) AS in_stock \
         FROM products p"
    )
}

impl SqlStore {
    async fn summaries(
        &self,
        where_sql: &str,
        binds: &[String],
        page: Page,
    ) -> Result<Paged<ProductSummary>, CatalogueError> {
        let count_sql = format!("SELECT COUNT(*) AS n FROM products p WHERE {where_sql}");
        let mut cq = sqlx::query(&count_sql);
        for b in binds {
            cq = cq.bind(b.as_str());
        }
        let total: i64 = cq.fetch_one(&self.read).await.db()?.try_get("n").db()?;
        let sql = format!(
            "{} WHERE {where_sql} ORDER BY p.sort, p.id LIMIT ? OFFSET ?",
            summary_select()
        );
        let mut q = sqlx::query(&sql).bind(true).bind(true);
        for b in binds {
            q = q.bind(b.as_str());
        }
        let rows = q
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.read)
            .await
            .db()?;
        let items = rows
            .iter()
            .map(rows::product_summary)
            .collect::<Result<_, _>>()?;
        Ok(Paged { items, total, page })
    }
}

#[async_trait]
impl CatalogueStore for SqlStore {
    async fn list_on_sale(&self, page: Page) -> Result<Paged<ProductSummary>, CatalogueError> {
        self.summaries(
            "p.status = ?",
            &[ProductStatus::OnSale.as_str().to_string()],
            page,
        )
        .await
    }

    async fn list_all(
        &self,
        query: &ProductQuery,
        page: Page,
    ) -> Result<Paged<ProductSummary>, CatalogueError> {
        let mut clauses = vec!["p.status <> ?".to_string()];
        let mut binds = vec![ProductStatus::Deleted.as_str().to_string()];
        if let Some(s) = query.status {
            clauses.push("p.status = ?".into());
            binds.push(s.as_str().to_string());
        }
        if let Some(t) = query.text.as_deref().filter(|t| !t.trim().is_empty()) {
            clauses.push("p.title LIKE ? ESCAPE '!'".into());
            binds.push(like_contains(t.trim()));
        }
        self.summaries(&clauses.join(" AND "), &binds, page).await
    }

    async fn get_product(&self, id: ProductId) -> Result<Option<Product>, CatalogueError> {
        let Some(p) = sqlx::query(
            "SELECT id, title, description, status, sort, created_at, updated_at FROM products WHERE id = ? AND status <> ?",
        )
        .bind(id.get())
        .bind(ProductStatus::Deleted.as_str())
        .fetch_optional(&self.read)
        .await
        .db()?
        else {
            return Ok(None);
        };
        let images = sqlx::query(
            "SELECT id, url, sort FROM product_images WHERE product_id = ? ORDER BY sort, id",
        )
        .bind(id.get())
        .fetch_all(&self.read)
        .await
        .db()?;
        let skus = sqlx::query(&format!(
            "SELECT {SKU_COLS} FROM skus s JOIN inventory i ON i.sku_id = s.id WHERE s.product_id = ? ORDER BY s.sort, s.id"
        ))
        .bind(id.get())
        .fetch_all(&self.read)
        .await
        .db()?;
        let title = rows::string(&p, "title")?;
        let description = rows::string(&p, "description")?;
        let status = rows::string(&p, "status")?;
        let corrupt =
            |e: shop_core::ValidationError| shop_core::ports::StoreError::Corrupt(e.to_string());
        Ok(Some(Product {
            id,
            title: shop_core::text::Title::parse(&title).map_err(corrupt)?,
            description: shop_core::text::Description::parse(&description).map_err(corrupt)?,
            status: ProductStatus::parse(&status).map_err(corrupt)?,
            sort: rows::get(&p, "sort")?,
            images: images.iter().map(rows::image).collect::<Result<_, _>>()?,
            skus: skus.iter().map(rows::sku).collect::<Result<_, _>>()?,
            created_at: shop_core::Timestamp::from_millis(rows::get(&p, "created_at")?),
            updated_at: shop_core::Timestamp::from_millis(rows::get(&p, "updated_at")?),
        }))
    }

    async fn skus_for_sale(&self, ids: &[SkuId]) -> Result<Vec<SkuForSale>, CatalogueError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        self.batches
            .skus
            .submit(&self.read, ids.to_vec())
            .await
            .unwrap_or_else(|WriterGone| {
                Err(StoreError::Unavailable("the catalogue reader has stopped".into()).into())
            })
    }

    async fn create_product(&self, p: &Product, audit: &AuditEntry) -> Result<(), CatalogueError> {
        let mut tx = self.write.begin().await.db()?;
        sqlx::query(
            "INSERT INTO products (id, title, description, status, sort, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(p.id.get())
        .bind(p.title.as_str())
        .bind(p.description.as_str())
        .bind(p.status.as_str())
        .bind(p.sort)
        .bind(p.created_at.millis())
        .bind(p.updated_at.millis())
        .execute(&mut *tx)
        .await
        .db()?;
        for sku in &p.skus {
            insert_sku(&mut tx, sku, p.created_at.millis()).await?;
        }
        for img in &p.images {
            insert_image(&mut tx, p.id, img).await?;
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn update_product(&self, p: &Product, audit: &AuditEntry) -> Result<(), CatalogueError> {
        let mut tx = self.write.begin().await.db()?;
        let done = sqlx::query(
            "UPDATE products SET title = ?, description = ?, status = ?, sort = ?, updated_at = ? WHERE id = ? AND status <> ?",
        )
        .bind(p.title.as_str())
        .bind(p.description.as_str())
        .bind(p.status.as_str())
        .bind(p.sort)
        .bind(p.updated_at.millis())
        .bind(p.id.get())
        .bind(ProductStatus::Deleted.as_str())
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() != 1 {
            return Err(CatalogueError::NotFound);
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn save_sku(&self, sku: &Sku, audit: &AuditEntry) -> Result<(), CatalogueError> {
        let mut tx = self.write.begin().await.db()?;
        let now = audit.at.millis();
        let done = sqlx::query(
            "UPDATE skus SET spec = ?, price_fen = ?, enabled = ?, sort = ?, updated_at = ? WHERE id = ? AND product_id = ?",
        )
        .bind(sku.spec.as_str())
        .bind(sku.price.get())
        .bind(sku.enabled)
        .bind(sku.sort)
        .bind(now)
        .bind(sku.id.get())
        .bind(sku.product_id.get())
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT id FROM products WHERE id = ? AND status <> ?")
                .bind(sku.product_id.get())
                .bind(ProductStatus::Deleted.as_str())
                .fetch_optional(&mut *tx)
                .await
                .db()?;
            if exists.is_none() {
                return Err(CatalogueError::NotFound);
            }
            insert_sku(&mut tx, sku, now).await?;
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn change_stock(
        &self,
        sku: SkuId,
        change: StockChange,
        audit: &AuditEntry,
    ) -> Result<(Stock, Stock), CatalogueError> {
        let mut tx = self.write.begin().await.db()?;
        let sql = format!(
            "SELECT on_hand, reserved FROM inventory WHERE sku_id = ?{}",
            DIALECT.for_update()
        );
        let row = sqlx::query(&sql)
            .bind(sku.get())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        let Some(row) = row else {
            return Err(CatalogueError::NotFound);
        };
        let before = rows::stock(&row)?;
        let after = match change {
            StockChange::Set(n) => before.set_on_hand(n)?,
            StockChange::Adjust(d) => before.adjust(d)?,
        };
        sqlx::query(
            "UPDATE inventory SET on_hand = ?, updated_at = ? WHERE sku_id = ? AND reserved = ?",
        )
        .bind(after.on_hand())
        .bind(audit.at.millis())
        .bind(sku.get())
        .bind(before.reserved())
        .execute(&mut *tx)
        .await
        .db()?;
        // The audit row records the levels actually read and written in this transaction.
        let mut entry = audit.clone();
        let mut b = serde_json::json!({"on_hand": before.on_hand(), "reserved": before.reserved()});
        let mut a = serde_json::json!({"on_hand": after.on_hand(), "reserved": after.reserved()});
        if let (Some(bo), Some(extra)) = (b.as_object_mut(), audit.before.as_object()) {
            bo.extend(extra.clone());
        }
        if let (Some(ao), Some(extra)) = (a.as_object_mut(), audit.after.as_object()) {
            ao.extend(extra.clone());
        }
        entry.before = b;
        entry.after = a;
        append_audit(&mut tx, &entry).await?;
        tx.commit().await.db()?;
        Ok((before, after))
    }

    async fn add_image(
        &self,
        product: ProductId,
        image: &ProductImage,
    ) -> Result<(), CatalogueError> {
        let mut tx = self.write.begin().await.db()?;
        let exists = sqlx::query("SELECT id FROM products WHERE id = ? AND status <> ?")
            .bind(product.get())
            .bind(ProductStatus::Deleted.as_str())
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if exists.is_none() {
            return Err(CatalogueError::NotFound);
        }
        insert_image(&mut tx, product, image).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn remove_image(&self, product: ProductId, image: ImageId) -> Result<(), CatalogueError> {
        let done = sqlx::query("DELETE FROM product_images WHERE id = ? AND product_id = ?")
            .bind(image.get())
            .bind(product.get())
            .execute(&self.write)
            .await
            .db()?;
        if done.rows_affected() == 0 {
            return Err(CatalogueError::NotFound);
        }
        Ok(())
    }

    async fn stock_levels(
        &self,
        skus: Option<Vec<SkuId>>,
    ) -> Result<Vec<(SkuId, Stock)>, CatalogueError> {
        let rows = match skus {
            Some(ids) if ids.is_empty() => return Ok(vec![]),
            Some(ids) => {
                let sql = format!(
                    "SELECT sku_id, on_hand, reserved FROM inventory WHERE sku_id IN ({}) ORDER BY sku_id",
                    in_list(ids.len())
                );
                let mut q = sqlx::query(&sql);
                for id in &ids {
                    q = q.bind(id.get());
                }
                q.fetch_all(&self.read).await.db()?
            }
            None => sqlx::query("SELECT sku_id, on_hand, reserved FROM inventory ORDER BY sku_id")
                .fetch_all(&self.read)
                .await
                .db()?,
        };
        rows.iter()
            .map(|r| {
                let id: i64 = rows::get(r, "sku_id")?;
                let sku = SkuId::new(id)
                    .map_err(|e| shop_core::ports::StoreError::Corrupt(e.to_string()))?;
                Ok((sku, rows::stock(r)?))
            })
            .collect()
    }
}

async fn insert_sku(conn: &mut super::tx::Conn, sku: &Sku, at: i64) -> Result<(), CatalogueError> {
    sqlx::query(
        "INSERT INTO skus (id, product_id, spec, price_fen, enabled, sort, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(sku.id.get())
    .bind(sku.product_id.get())
    .bind(sku.spec.as_str())
    .bind(sku.price.get())
    .bind(sku.enabled)
    .bind(sku.sort)
    .bind(at)
    .bind(at)
    .execute(&mut *conn)
    .await
    .db()?;
    sqlx::query(
        "INSERT INTO inventory (sku_id, on_hand, reserved, updated_at) VALUES (?, ?, ?, ?)",
    )
    .bind(sku.id.get())
    .bind(sku.stock.on_hand())
    .bind(sku.stock.reserved())
    .bind(at)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

async fn insert_image(
    conn: &mut super::tx::Conn,
    product: ProductId,
    img: &ProductImage,
) -> Result<(), CatalogueError> {
    sqlx::query("INSERT INTO product_images (id, product_id, url, sort) VALUES (?, ?, ?, ?)")
        .bind(img.id.get())
        .bind(product.get())
        .bind(img.url.as_str())
        .bind(img.sort)
        .execute(&mut *conn)
        .await
        .db()?;
    Ok(())
}
