use super::{Page, Paged, StoreError};
use crate::audit::AuditEntry;
use crate::catalogue::{Product, ProductImage, ProductStatus, ProductSummary, Sku, SkuForSale};
use crate::ids::{ImageId, ProductId, SkuId};
use crate::inventory::{InventoryError, Stock};
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("not found")]
    NotFound,
    /// A stock change would break an inventory rule (e.g. on hand below reserved).
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Filters of the back-office product list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductQuery {
    pub status: Option<ProductStatus>,
    /// Substring of the title.
    pub text: Option<String>,
}

/// A stock change and the audit row that records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockChange {
    /// Set on hand to this count (a stock-take).
    Set(i64),
    /// Add (or with a negative number remove) units.
    Adjust(i64),
}

#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CatalogueStore: Send + Sync {
    /// On-sale products for the shelf, by `sort` then id, with cover, lowest price and stock flag.
    async fn list_on_sale(&self, page: Page) -> Result<Paged<ProductSummary>, CatalogueError>;

    /// All products that are not deleted, for the back office.
    async fn list_all(
        &self,
        query: &ProductQuery,
        page: Page,
    ) -> Result<Paged<ProductSummary>, CatalogueError>;

    /// A product with its images and SKUs (stock included). Deleted products are not returned.
    async fn get_product(&self, id: ProductId) -> Result<Option<Product>, CatalogueError>;

    /// Price, names and sellability of the given SKUs, for pricing an order. Unknown ids are
    /// simply absent from the answer.
    async fn skus_for_sale(&self, ids: &[SkuId]) -> Result<Vec<SkuForSale>, CatalogueError>;

    /// Inserts a product with its SKUs (and their stock) and images.
    async fn create_product(
        &self,
        product: &Product,
        audit: &AuditEntry,
    ) -> Result<(), CatalogueError>;

    /// Updates title, description, status and sort of a product.
    async fn update_product(
        &self,
        product: &Product,
        audit: &AuditEntry,
    ) -> Result<(), CatalogueError>;

    /// Inserts or updates one SKU's spec, price, enabled flag and sort (not its stock). A new
    /// SKU starts with the stock it carries.
    async fn save_sku(&self, sku: &Sku, audit: &AuditEntry) -> Result<(), CatalogueError>;

    /// Changes on-hand stock under the inventory rules; returns the levels before and after,
    /// as read and written in the transaction. The audit row records the same.
    async fn change_stock(
        &self,
        sku: SkuId,
        change: StockChange,
        audit: &AuditEntry,
    ) -> Result<(Stock, Stock), CatalogueError>;

    async fn add_image(
        &self,
        product: ProductId,
        image: &ProductImage,
    ) -> Result<(), CatalogueError>;

    async fn remove_image(&self, product: ProductId, image: ImageId) -> Result<(), CatalogueError>;

    /// Stock of the given SKUs (all SKUs when `None`), to load or check the stock gate.
    async fn stock_levels(
        &self,
        skus: Option<Vec<SkuId>>,
    ) -> Result<Vec<(SkuId, Stock)>, CatalogueError>;
}
