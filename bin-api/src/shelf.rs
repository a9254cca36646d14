//! The shelf cache: what shoppers browse (product pages and product details) kept for a moment
//! so that a crowd reading the catalogue costs one database read per page per `ttl`, not one per
//! shopper. Back-office writes through this server clear it at once; writes elsewhere (the CLI,
//! another replica) show within `ttl`. The stock a shopper sees may be that much behind, which
//! is harmless: placing an order checks stock in the database and the gate, never here.

use crate::api::models::{ProductDetail, ProductPage};
use shop_core::time::{Span, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// More distinct pages or products than this and the map is emptied (the keys come from
/// query strings, so they must be bounded).
const MAX_ENTRIES: usize = 4096;

type Entries<K, V> = Mutex<HashMap<K, (Timestamp, Arc<V>)>>;

#[derive(Debug)]
pub struct Shelf {
    ttl: Span,
    pages: Entries<(u32, u32), ProductPage>,
    products: Entries<i64, ProductDetail>,
}

fn get<K: std::hash::Hash + Eq, V>(map: &Entries<K, V>, key: &K, now: Timestamp) -> Option<Arc<V>> {
    let m = map.lock().ok()?;
    m.get(key)
        .filter(|(until, _)| now < *until)
        .map(|(_, v)| v.clone())
}

fn put<K: std::hash::Hash + Eq, V>(map: &Entries<K, V>, key: K, until: Timestamp, v: Arc<V>) {
    if let Ok(mut m) = map.lock() {
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        m.insert(key, (until, v));
    }
}

impl Shelf {
    /// `ttl` zero disables the cache.
    pub fn new(ttl: Span) -> Shelf {
        Shelf {
            ttl,
            pages: Mutex::default(),
            products: Mutex::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.ttl.as_millis() > 0
    }

    pub fn page(&self, key: (u32, u32), now: Timestamp) -> Option<Arc<ProductPage>> {
        get(&self.pages, &key, now)
    }

    pub fn put_page(&self, key: (u32, u32), now: Timestamp, page: Arc<ProductPage>) {
        if self.enabled() {
            put(&self.pages, key, now.plus(self.ttl), page);
        }
    }

    pub fn product(&self, id: i64, now: Timestamp) -> Option<Arc<ProductDetail>> {
        get(&self.products, &id, now)
    }

    pub fn put_product(&self, id: i64, now: Timestamp, p: Arc<ProductDetail>) {
        if self.enabled() {
            put(&self.products, id, now.plus(self.ttl), p);
        }
    }

    /// After any change to the catalogue made through this server.
    pub fn clear(&self) {
        if let Ok(mut m) = self.pages.lock() {
            m.clear();
        }
        if let Ok(mut m) = self.products.lock() {
            m.clear();
        }
    }
}
