//! Builders for test data: a product with SKUs, a shopper with an address, an operator actor.

use crate::Env;
use shop_core::address::{Address, AddressFields};
use shop_core::audit::{Actor, AuditEntry};
use shop_core::catalogue::{Product, ProductImage, ProductStatus, Sku};
use shop_core::ids::*;
use shop_core::inventory::Stock;
use shop_core::money::Fen;
use shop_core::order::Quantity;
use shop_core::ports::IdGenerator;
use shop_core::text::*;
use shop_core::usecases::{OrderItem, PlaceOrder};
use shop_core::user::User;

pub fn next<T: TryFrom<i64>>(env: &Env) -> T
where
    T::Error: std::fmt::Debug,
{
    T::try_from(env.ids.next_id()).expect("id")
}

pub fn audit(env: &Env, action: &str, target: &str) -> AuditEntry {
    AuditEntry {
        at: shop_core::ports::Clock::now(env.clock.as_ref()),
        actor: Actor::system("contract-test"),
        action: action.into(),
        target_type: target.into(),
        target_id: "1".into(),
        before: serde_json::json!({}),
        after: serde_json::json!({}),
    }
}

/// A product on sale with one SKU per `(spec, price_fen, on_hand)`.
pub fn product(env: &Env, title: &str, skus: &[(&str, i64, i64)]) -> Product {
    let now = shop_core::ports::Clock::now(env.clock.as_ref());
    let id: ProductId = next(env);
    Product {
        id,
        title: Title::parse(title).expect("title"),
        description: Description::parse("五常大米，稻花香2号，当季新米。").expect("description"),
        status: ProductStatus::OnSale,
        sort: 0,
        images: vec![ProductImage {
            id: next(env),
            url: format!("/media/{id}.jpg"),
            sort: 0,
        }],
        skus: skus
            .iter()
            .enumerate()
            .map(|(i, (spec, price, on_hand))| Sku {
                id: next(env),
                product_id: id,
                spec: SkuSpec::parse(spec).expect("spec"),
                price: Fen::price(*price).expect("price"),
                enabled: true,
                stock: Stock::new(*on_hand, 0).expect("stock"),
                sort: i as i64,
            })
            .collect(),
        created_at: now,
        updated_at: now,
    }
}

/// Stores a product with one SKU of `on_hand` units at `price_fen`; returns it.
pub async fn stocked_product(env: &Env, price_fen: i64, on_hand: i64) -> Product {
    let p = product(
        env,
        "五常大米 稻花香",
        &[("5kg 真空装", price_fen, on_hand)],
    );
    env.stores()
        .catalogue
        .create_product(&p, &audit(env, "product.create", "product"))
        .await
        .expect("create product");
    p
}

pub fn address_fields() -> AddressFields {
    AddressFields {
        receiver: ReceiverName::parse("张三").expect("receiver"),
        phone: Phone::parse("13812345678").expect("phone"),
        province: RegionPart::parse("黑龙江省").expect("province"),
        city: RegionPart::parse("哈尔滨市").expect("city"),
        district: RegionPart::parse("五常市").expect("district"),
        detail: AddressDetail::parse("民乐乡 1 号").expect("detail"),
    }
}

/// A shopper with one (default) address.
pub async fn shopper(env: &Env) -> (UserId, AddressId) {
    let now = shop_core::ports::Clock::now(env.clock.as_ref());
    let id: UserId = next(env);
    let user = User {
        id,
        openid: OpenId::parse(&format!("openid_{id}")).expect("openid"),
        unionid: None,
        nickname: None,
        created_at: now,
    };
    let user = env
        .stores()
        .users
        .find_or_create(&user)
        .await
        .expect("user");
    let address = Address {
        id: next(env),
        user_id: user.id,
        fields: address_fields(),
        is_default: true,
        created_at: now,
        updated_at: now,
    };
    let address = env
        .stores()
        .addresses
        .create(&address)
        .await
        .expect("address");
    (user.id, address.id)
}

pub fn order_cmd(address: AddressId, items: &[(SkuId, i64)]) -> PlaceOrder {
    PlaceOrder {
        items: items
            .iter()
            .map(|(sku_id, q)| OrderItem {
                sku_id: *sku_id,
                quantity: Quantity::new(*q).expect("quantity"),
            })
            .collect(),
        address_id: address,
        remark: Remark::parse("").expect("remark"),
    }
}

pub fn key(s: &str) -> IdempotencyKey {
    IdempotencyKey::parse(s).expect("key")
}
