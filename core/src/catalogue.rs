//! The catalogue: products (one listing, with pictures and a description) and their SKUs (the
//! sellable variants; rice is sold by weight and package, so "2.5kg 袋装" and "5kg 真空装" are
//! different SKUs with their own price and stock).

use crate::error::ValidationError;
use crate::ids::{ImageId, ProductId, SkuId};
use crate::inventory::Stock;
use crate::money::Fen;
use crate::text::{Description, SkuSpec, Title};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    /// Listed and buyable.
    OnSale,
    /// Hidden from shoppers; open orders keep their lines.
    OffSale,
    /// Removed by an operator. Kept because orders refer to it.
    Deleted,
}

impl ProductStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OnSale => "ON_SALE",
            Self::OffSale => "OFF_SALE",
            Self::Deleted => "DELETED",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "ON_SALE" => Ok(Self::OnSale),
            "OFF_SALE" => Ok(Self::OffSale),
            "DELETED" => Ok(Self::Deleted),
            _ => Err(ValidationError::new(
                "status",
                "unknown",
                format!("unknown product status `{s}`"),
            )),
        }
    }
}

/// A picture of a product. `url` is what the storage port returned when it was uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductImage {
    pub id: ImageId,
    pub url: String,
    pub sort: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sku {
    pub id: SkuId,
    pub product_id: ProductId,
    pub spec: SkuSpec,
    pub price: Fen,
    /// A disabled SKU stays on the product page as "unavailable" and cannot be ordered.
    pub enabled: bool,
    pub stock: Stock,
    pub sort: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub title: Title,
    pub description: Description,
    pub status: ProductStatus,
    /// Lower sorts first on the shelf.
    pub sort: i64,
    pub images: Vec<ProductImage>,
    pub skus: Vec<Sku>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Product {
    pub fn cover(&self) -> Option<&ProductImage> {
        self.images.iter().min_by_key(|i| (i.sort, i.id))
    }

    pub fn min_price(&self) -> Option<Fen> {
        self.skus
            .iter()
            .filter(|s| s.enabled)
            .map(|s| s.price)
            .min()
    }

    pub fn in_stock(&self) -> bool {
        self.skus
            .iter()
            .any(|s| s.enabled && s.stock.available() > 0)
    }
}

/// One line of the shelf: what the product list shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductSummary {
    pub id: ProductId,
    pub title: Title,
    pub status: ProductStatus,
    pub sort: i64,
    pub cover_url: Option<String>,
    pub min_price: Option<Fen>,
    pub in_stock: bool,
    pub updated_at: Timestamp,
}

/// What an order needs to know about a SKU at the moment it is placed: the price and names are
/// copied onto the order line so later catalogue edits never change a placed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuForSale {
    pub sku_id: SkuId,
    pub product_id: ProductId,
    pub title: Title,
    pub spec: SkuSpec,
    pub price: Fen,
    pub sellable: bool,
    pub cover_url: Option<String>,
}
