//! Row → domain decoding. A row that does not parse into a domain value is `Corrupt`: the
//! database was edited by hand or a bug wrote it, and it must not be served as if valid.

use crate::Db;
use shop_core::address::{Address, AddressFields};
use shop_core::audit::{Actor, AuditEntry, AuditRecord};
use shop_core::cart::CartLine;
use shop_core::catalogue::{ProductImage, ProductStatus, ProductSummary, Sku, SkuForSale};
use shop_core::events::OutboxEvent;
use shop_core::ids::*;
use shop_core::inventory::Stock;
use shop_core::money::Fen;
use shop_core::order::{CancelReason, Order, OrderLine, OrderStatus, Quantity, Shipment};
use shop_core::payment::{Payment, PaymentStatus};
use shop_core::ports::{JobStatus, StoreError};
use shop_core::refund::{Refund, RefundStatus};
use shop_core::text::*;
use shop_core::time::Timestamp;
use shop_core::user::{Operator, OperatorSession, Role, Session, User};
use shop_core::ValidationError;
use sqlx::Row as _;

pub(crate) type Row = <Db as sqlx::Database>::Row;

pub(crate) fn get<'r, T>(row: &'r Row, col: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get::<T, _>(col)
        .map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

/// A text column as a `String`. Decoded through bytes because the MySQL driver refuses to
/// decode columns with a binary (`utf8mb4_bin`) collation as strings, and identifiers such as
/// openids must compare case-sensitively.
pub(crate) fn string(row: &Row, col: &str) -> Result<String, StoreError> {
    let bytes: Vec<u8> = get(row, col)?;
    String::from_utf8(bytes).map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

pub(crate) fn string_opt(row: &Row, col: &str) -> Result<Option<String>, StoreError> {
    let bytes: Option<Vec<u8>> = get(row, col)?;
    bytes
        .map(|b| {
            String::from_utf8(b).map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
        })
        .transpose()
}

fn parse<T>(col: &str, r: Result<T, ValidationError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

fn id<T: TryFrom<i64, Error = ValidationError>>(row: &Row, col: &str) -> Result<T, StoreError> {
    parse(col, T::try_from(get::<i64>(row, col)?))
}

fn ts(row: &Row, col: &str) -> Result<Timestamp, StoreError> {
    Ok(Timestamp::from_millis(get::<i64>(row, col)?))
}

fn ts_opt(row: &Row, col: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(get::<Option<i64>>(row, col)?.map(Timestamp::from_millis))
}

fn fen(row: &Row, col: &str) -> Result<Fen, StoreError> {
    Ok(Fen::new(get::<i64>(row, col)?))
}

fn text<T>(
    row: &Row,
    col: &str,
    f: fn(&str) -> Result<T, ValidationError>,
) -> Result<T, StoreError> {
    parse(col, f(&string(row, col)?))
}

fn text_opt<T>(
    row: &Row,
    col: &str,
    f: fn(&str) -> Result<T, ValidationError>,
) -> Result<Option<T>, StoreError> {
    string_opt(row, col)?.map(|s| parse(col, f(&s))).transpose()
}

fn actor(row: &Row, col: &str) -> Result<Actor, StoreError> {
    let s = string(row, col)?;
    Actor::decode(&s).ok_or_else(|| StoreError::Corrupt(format!("column {col}: bad actor `{s}`")))
}

fn actor_opt(row: &Row, col: &str) -> Result<Option<Actor>, StoreError> {
    match string_opt(row, col)? {
        Some(s) => Actor::decode(&s)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("column {col}: bad actor `{s}`"))),
        None => Ok(None),
    }
}

pub(crate) const USER_COLS: &str = "id, openid, unionid, nickname, created_at";

pub(crate) fn user(row: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: id(row, "id")?,
        openid: text(row, "openid", OpenId::parse)?,
        unionid: string_opt(row, "unionid")?,
        nickname: text_opt(row, "nickname", Nickname::parse)?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn session(row: &Row) -> Result<Session, StoreError> {
    Ok(Session {
        token_hash: string(row, "token_hash")?,
        user_id: id(row, "user_id")?,
        wx_session_key: string_opt(row, "wx_session_key")?,
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
    })
}

pub(crate) const OPERATOR_COLS: &str =
    "id, username, password_hash, role, disabled, created_at, updated_at";

pub(crate) fn operator(row: &Row) -> Result<Operator, StoreError> {
    Ok(Operator {
        id: id(row, "id")?,
        username: text(row, "username", Username::parse)?,
        password_hash: string(row, "password_hash")?,
        role: text(row, "role", Role::parse)?,
        disabled: get(row, "disabled")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(crate) fn operator_session(row: &Row) -> Result<OperatorSession, StoreError> {
    Ok(OperatorSession {
        token_hash: string(row, "token_hash")?,
        operator_id: id(row, "operator_id")?,
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
    })
}

fn address_fields(row: &Row) -> Result<AddressFields, StoreError> {
    Ok(AddressFields {
        receiver: text(row, "receiver", ReceiverName::parse)?,
        phone: text(row, "phone", Phone::parse)?,
        province: text(row, "province", RegionPart::parse)?,
        city: text(row, "city", RegionPart::parse)?,
        district: text(row, "district", RegionPart::parse)?,
        detail: text(row, "detail", AddressDetail::parse)?,
    })
}

pub(crate) const ADDRESS_COLS: &str =
    "id, user_id, receiver, phone, province, city, district, detail, is_default, created_at, updated_at";

pub(crate) fn address(row: &Row) -> Result<Address, StoreError> {
    Ok(Address {
        id: id(row, "id")?,
        user_id: id(row, "user_id")?,
        fields: address_fields(row)?,
        is_default: get(row, "is_default")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(crate) fn cart_line(row: &Row) -> Result<CartLine, StoreError> {
    Ok(CartLine {
        user_id: id(row, "user_id")?,
        sku_id: id(row, "sku_id")?,
        quantity: parse("quantity", Quantity::new(get(row, "quantity")?))?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(crate) fn image(row: &Row) -> Result<ProductImage, StoreError> {
    Ok(ProductImage {
        id: id(row, "id")?,
        url: string(row, "url")?,
        sort: get(row, "sort")?,
    })
}

pub(crate) fn stock(row: &Row) -> Result<Stock, StoreError> {
    Stock::new(get(row, "on_hand")?, get(row, "reserved")?)
        .map_err(|e| StoreError::Corrupt(format!("inventory: {e}")))
}

pub(crate) const SKU_COLS: &str =
    "s.id, s.product_id, s.spec, s.price_fen, s.enabled, s.sort, i.on_hand, i.reserved";

pub(crate) fn sku(row: &Row) -> Result<Sku, StoreError> {
    Ok(Sku {
        id: id(row, "id")?,
        product_id: id(row, "product_id")?,
        spec: text(row, "spec", SkuSpec::parse)?,
        price: parse("price_fen", Fen::price(get(row, "price_fen")?))?,
        enabled: get(row, "enabled")?,
        stock: stock(row)?,
        sort: get(row, "sort")?,
    })
}

/// A correlated subquery for a product's cover image (both dialects).
pub(crate) const COVER_SUBQUERY: &str =
    "(SELECT pi.url FROM product_images pi WHERE pi.product_id = p.id ORDER BY pi.sort, pi.id LIMIT 1)";

pub(crate) fn sku_for_sale(row: &Row) -> Result<SkuForSale, StoreError> {
    let status = text(row, "status", ProductStatus::parse)?;
    let enabled: bool = get(row, "enabled")?;
    Ok(SkuForSale {
        sku_id: id(row, "id")?,
        product_id: id(row, "product_id")?,
        title: text(row, "title", Title::parse)?,
        spec: text(row, "spec", SkuSpec::parse)?,
        price: parse("price_fen", Fen::price(get(row, "price_fen")?))?,
        sellable: enabled && status == ProductStatus::OnSale,
        cover_url: string_opt(row, "cover_url")?,
    })
}

/// Product columns plus the aggregates computed in SQL for the shelf.
pub(crate) fn product_summary(row: &Row) -> Result<ProductSummary, StoreError> {
    let min_price: Option<i64> = get(row, "min_price")?;
    let in_stock: i64 = get(row, "in_stock")?;
    Ok(ProductSummary {
        id: id(row, "id")?,
        title: text(row, "title", Title::parse)?,
        status: text(row, "status", ProductStatus::parse)?,
        sort: get(row, "sort")?,
        cover_url: string_opt(row, "cover_url")?,
        min_price: min_price.map(Fen::new),
        in_stock: in_stock > 0,
        updated_at: ts(row, "updated_at")?,
    })
}

pub(crate) const ORDER_COLS: &str = "id, order_no, user_id, status, items_total_fen, shipping_fee_fen, payable_fen, \
     paid_fen, refunded_fen, refund_pending_fen, receiver, phone, province, city, district, detail, remark, \
     created_at, expires_at, paid_at, carrier, tracking_no, shipped_at, completed_at, cancelled_at, \
     cancel_reason, cancel_note, late_payment, updated_at, version";

pub(crate) const ORDER_ITEM_COLS: &str =
    "order_id, line_no, sku_id, product_id, title, spec, unit_price_fen, quantity, line_total_fen, cover_url";

pub(crate) fn order_line(row: &Row) -> Result<(OrderId, OrderLine), StoreError> {
    Ok((
        id(row, "order_id")?,
        OrderLine {
            sku_id: id(row, "sku_id")?,
            product_id: id(row, "product_id")?,
            title: text(row, "title", Title::parse)?,
            spec: text(row, "spec", SkuSpec::parse)?,
            unit_price: fen(row, "unit_price_fen")?,
            quantity: parse("quantity", Quantity::new(get(row, "quantity")?))?,
            line_total: fen(row, "line_total_fen")?,
            cover_url: string_opt(row, "cover_url")?,
        },
    ))
}

pub(crate) fn order(row: &Row, lines: Vec<OrderLine>) -> Result<Order, StoreError> {
    let carrier = text_opt(row, "carrier", Carrier::parse)?;
    let tracking = text_opt(row, "tracking_no", TrackingNo::parse)?;
    let shipment = match (carrier, tracking) {
        (Some(carrier), Some(tracking_no)) => Some(Shipment {
            carrier,
            tracking_no,
        }),
        _ => None,
    };
    Ok(Order {
        id: id(row, "id")?,
        order_no: text(row, "order_no", OrderNo::parse)?,
        user_id: id(row, "user_id")?,
        status: text(row, "status", OrderStatus::parse)?,
        lines,
        items_total: fen(row, "items_total_fen")?,
        shipping_fee: fen(row, "shipping_fee_fen")?,
        payable: fen(row, "payable_fen")?,
        paid: fen(row, "paid_fen")?,
        refunded: fen(row, "refunded_fen")?,
        refund_pending: fen(row, "refund_pending_fen")?,
        address: address_fields(row)?,
        remark: text(row, "remark", Remark::parse)?,
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
        paid_at: ts_opt(row, "paid_at")?,
        shipment,
        shipped_at: ts_opt(row, "shipped_at")?,
        completed_at: ts_opt(row, "completed_at")?,
        cancelled_at: ts_opt(row, "cancelled_at")?,
        cancel_reason: text_opt(row, "cancel_reason", CancelReason::parse)?,
        cancel_note: text_opt(row, "cancel_note", Reason::parse)?,
        late_payment: get(row, "late_payment")?,
        updated_at: ts(row, "updated_at")?,
        version: get(row, "version")?,
    })
}

pub(crate) const PAYMENT_COLS: &str =
    "id, order_id, out_trade_no, amount_fen, status, prepay_id, prepay_expires_at, \
     transaction_id, paid_at, closed_at, created_at, updated_at, version";

pub(crate) fn payment(row: &Row) -> Result<Payment, StoreError> {
    Ok(Payment {
        id: id(row, "id")?,
        order_id: id(row, "order_id")?,
        out_trade_no: text(row, "out_trade_no", OrderNo::parse)?,
        amount: fen(row, "amount_fen")?,
        status: text(row, "status", PaymentStatus::parse)?,
        prepay_id: string_opt(row, "prepay_id")?,
        prepay_expires_at: ts_opt(row, "prepay_expires_at")?,
        transaction_id: text_opt(row, "transaction_id", TransactionId::parse)?,
        paid_at: ts_opt(row, "paid_at")?,
        closed_at: ts_opt(row, "closed_at")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        version: get(row, "version")?,
    })
}

pub(crate) const REFUND_COLS: &str = "id, order_id, user_id, out_refund_no, amount_fen, reason, status, requested_by, \
     requested_at, decided_by, decided_at, decision_note, provider_refund_id, succeeded_at, failure, updated_at, version";

pub(crate) fn refund(row: &Row) -> Result<Refund, StoreError> {
    Ok(Refund {
        id: id(row, "id")?,
        order_id: id(row, "order_id")?,
        user_id: id(row, "user_id")?,
        out_refund_no: text(row, "out_refund_no", RefundNo::parse)?,
        amount: fen(row, "amount_fen")?,
        reason: text(row, "reason", Reason::parse)?,
        status: text(row, "status", RefundStatus::parse)?,
        requested_by: actor(row, "requested_by")?,
        requested_at: ts(row, "requested_at")?,
        decided_by: actor_opt(row, "decided_by")?,
        decided_at: ts_opt(row, "decided_at")?,
        decision_note: text_opt(row, "decision_note", Reason::parse)?,
        provider_refund_id: string_opt(row, "provider_refund_id")?,
        succeeded_at: ts_opt(row, "succeeded_at")?,
        failure: string_opt(row, "failure")?,
        updated_at: ts(row, "updated_at")?,
        version: get(row, "version")?,
    })
}

pub(crate) const EVENT_COLS: &str = "id, event_type, version, aggregate_id, occurred_at, payload";

pub(crate) fn event(row: &Row) -> Result<OutboxEvent, StoreError> {
    let payload = string(row, "payload")?;
    let version: i64 = get(row, "version")?;
    Ok(OutboxEvent {
        event_id: id(row, "id")?,
        event_type: string(row, "event_type")?,
        version: u32::try_from(version)
            .map_err(|e| StoreError::Corrupt(format!("version: {e}")))?,
        occurred_at: ts(row, "occurred_at")?,
        aggregate_id: string(row, "aggregate_id")?,
        data: serde_json::from_str(&payload)
            .map_err(|e| StoreError::Corrupt(format!("payload: {e}")))?,
    })
}

pub(crate) const AUDIT_COLS: &str =
    "seq, at, actor, action, target_type, target_id, before_json, after_json, prev_hash, hash";

pub(crate) fn audit(row: &Row) -> Result<AuditRecord, StoreError> {
    let json = |col: &str| -> Result<serde_json::Value, StoreError> {
        let s = string(row, col)?;
        serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
    };
    Ok(AuditRecord {
        seq: get(row, "seq")?,
        entry: AuditEntry {
            at: ts(row, "at")?,
            actor: actor(row, "actor")?,
            action: string(row, "action")?,
            target_type: string(row, "target_type")?,
            target_id: string(row, "target_id")?,
            before: json("before_json")?,
            after: json("after_json")?,
        },
        prev_hash: string(row, "prev_hash")?,
        hash: string(row, "hash")?,
    })
}

pub(crate) fn job_status(row: &Row) -> Result<JobStatus, StoreError> {
    Ok(JobStatus {
        job: string(row, "job")?,
        owner: string_opt(row, "owner")?,
        lease_until: ts_opt(row, "lease_until")?,
        last_started_at: ts_opt(row, "last_started_at")?,
        last_finished_at: ts_opt(row, "last_finished_at")?,
        last_ok: get(row, "last_ok")?,
        last_note: string_opt(row, "last_note")?,
    })
}
