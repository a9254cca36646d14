-- Rice shop schema, SQLite dialect: the same tables, columns and constraint names as
-- migrations/mysql/0001_init.sql, in SQLite's types.
-- Conventions: ids are application-generated BIGINTs below 2^53; money is INTEGER fen; instants
-- are INTEGER milliseconds since the Unix epoch (UTC); every constraint and index is named.

CREATE TABLE users (
    id          INTEGER       NOT NULL,
    openid      TEXT  NOT NULL,
    unionid     TEXT  NULL,
    nickname    TEXT  NULL,
    created_at  INTEGER       NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY (id),
    CONSTRAINT uq_users_openid UNIQUE (openid)
);

CREATE TABLE sessions (
    token_hash      TEXT     NOT NULL,
    user_id         INTEGER       NOT NULL,
    wx_session_key  TEXT NULL,
    created_at      INTEGER       NOT NULL,
    expires_at      INTEGER       NOT NULL,
    CONSTRAINT pk_sessions PRIMARY KEY (token_hash),
    CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX idx_sessions_expires ON sessions (expires_at);

CREATE TABLE operators (
    id             INTEGER       NOT NULL,
    username       TEXT  NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT  NOT NULL,
    disabled       INTEGER      NOT NULL DEFAULT 0,
    created_at     INTEGER       NOT NULL,
    updated_at     INTEGER       NOT NULL,
    CONSTRAINT pk_operators PRIMARY KEY (id),
    CONSTRAINT uq_operators_username UNIQUE (username),
    CONSTRAINT ck_operators_role CHECK (role IN ('admin', 'operator', 'finance'))
);

CREATE TABLE operator_sessions (
    token_hash   TEXT NOT NULL,
    operator_id  INTEGER   NOT NULL,
    created_at   INTEGER   NOT NULL,
    expires_at   INTEGER   NOT NULL,
    CONSTRAINT pk_operator_sessions PRIMARY KEY (token_hash),
    CONSTRAINT fk_operator_sessions_operator FOREIGN KEY (operator_id) REFERENCES operators (id)
);

CREATE TABLE addresses (
    id          INTEGER       NOT NULL,
    user_id     INTEGER       NOT NULL,
    receiver    TEXT  NOT NULL,
    phone       TEXT  NOT NULL,
    province    TEXT  NOT NULL,
    city        TEXT  NOT NULL,
    district    TEXT  NOT NULL,
    detail      TEXT NOT NULL,
    is_default  INTEGER      NOT NULL DEFAULT 0,
    created_at  INTEGER       NOT NULL,
    updated_at  INTEGER       NOT NULL,
    CONSTRAINT pk_addresses PRIMARY KEY (id),
    CONSTRAINT fk_addresses_user FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX idx_addresses_user ON addresses (user_id, updated_at);

CREATE TABLE products (
    id           INTEGER        NOT NULL,
    title        TEXT  NOT NULL,
    description  TEXT          NOT NULL,
    status       TEXT   NOT NULL,
    sort         INTEGER        NOT NULL DEFAULT 0,
    created_at   INTEGER        NOT NULL,
    updated_at   INTEGER        NOT NULL,
    CONSTRAINT pk_products PRIMARY KEY (id),
    CONSTRAINT ck_products_status CHECK (status IN ('ON_SALE', 'OFF_SALE', 'DELETED'))
);
CREATE INDEX idx_products_shelf ON products (status, sort, id);

CREATE TABLE product_images (
    id          INTEGER       NOT NULL,
    product_id  INTEGER       NOT NULL,
    url         TEXT NOT NULL,
    sort        INTEGER       NOT NULL DEFAULT 0,
    CONSTRAINT pk_product_images PRIMARY KEY (id),
    CONSTRAINT fk_product_images_product FOREIGN KEY (product_id) REFERENCES products (id)
);
CREATE INDEX idx_product_images_product ON product_images (product_id, sort);

CREATE TABLE skus (
    id          INTEGER       NOT NULL,
    product_id  INTEGER       NOT NULL,
    spec        TEXT  NOT NULL,
    price_fen   INTEGER       NOT NULL,
    enabled     INTEGER      NOT NULL DEFAULT 1,
    sort        INTEGER       NOT NULL DEFAULT 0,
    created_at  INTEGER       NOT NULL,
    updated_at  INTEGER       NOT NULL,
    CONSTRAINT pk_skus PRIMARY KEY (id),
    CONSTRAINT fk_skus_product FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT ck_skus_price_positive CHECK (price_fen > 0)
);
CREATE INDEX idx_skus_product ON skus (product_id, sort);

-- The authority on stock. Reservation is `UPDATE … SET reserved = reserved + q WHERE
-- on_hand - reserved >= q`; the checks make an oversell impossible even for a buggy writer.
CREATE TABLE inventory (
    sku_id      INTEGER NOT NULL,
    on_hand     INTEGER NOT NULL,
    reserved    INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    CONSTRAINT pk_inventory PRIMARY KEY (sku_id),
    CONSTRAINT fk_inventory_sku FOREIGN KEY (sku_id) REFERENCES skus (id),
    CONSTRAINT ck_inventory_on_hand_non_negative CHECK (on_hand >= 0),
    CONSTRAINT ck_inventory_reserved_non_negative CHECK (reserved >= 0),
    CONSTRAINT ck_inventory_reserved_within_on_hand CHECK (reserved <= on_hand)
);

CREATE TABLE cart_items (
    user_id     INTEGER NOT NULL,
    sku_id      INTEGER NOT NULL,
    quantity    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CONSTRAINT pk_cart_items PRIMARY KEY (user_id, sku_id),
    CONSTRAINT fk_cart_items_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ck_cart_items_quantity CHECK (quantity BETWEEN 1 AND 99)
);

CREATE TABLE orders (
    id                  INTEGER        NOT NULL,
    order_no            TEXT   NOT NULL,
    user_id             INTEGER        NOT NULL,
    status              TEXT   NOT NULL,
    items_total_fen     INTEGER        NOT NULL,
    shipping_fee_fen    INTEGER        NOT NULL,
    payable_fen         INTEGER        NOT NULL,
    paid_fen            INTEGER        NOT NULL DEFAULT 0,
    refunded_fen        INTEGER        NOT NULL DEFAULT 0,
    refund_pending_fen  INTEGER        NOT NULL DEFAULT 0,
    receiver            TEXT   NOT NULL,
    phone               TEXT   NOT NULL,
    province            TEXT   NOT NULL,
    city                TEXT   NOT NULL,
    district            TEXT   NOT NULL,
    detail              TEXT  NOT NULL,
    remark              TEXT  NOT NULL DEFAULT '',
    created_at          INTEGER        NOT NULL,
    expires_at          INTEGER        NOT NULL,
    paid_at             INTEGER        NULL,
    carrier             TEXT   NULL,
    tracking_no         TEXT   NULL,
    shipped_at          INTEGER        NULL,
    completed_at        INTEGER        NULL,
    cancelled_at        INTEGER        NULL,
    cancel_reason       TEXT   NULL,
    cancel_note         TEXT  NULL,
    late_payment        INTEGER       NOT NULL DEFAULT 0,
    updated_at          INTEGER        NOT NULL,
    version             INTEGER        NOT NULL DEFAULT 0,
    CONSTRAINT pk_orders PRIMARY KEY (id),
    CONSTRAINT uq_orders_order_no UNIQUE (order_no),
    CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ck_orders_status CHECK (status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED', 'CANCELLED', 'REFUNDED')),
    CONSTRAINT ck_orders_amounts CHECK (items_total_fen >= 0 AND shipping_fee_fen >= 0 AND payable_fen = items_total_fen + shipping_fee_fen),
    CONSTRAINT ck_orders_refunds_within_paid CHECK (refunded_fen >= 0 AND refund_pending_fen >= 0 AND refunded_fen + refund_pending_fen <= paid_fen)
);
-- "my orders by time"
CREATE INDEX idx_orders_user_created ON orders (user_id, created_at);
-- "orders by status and time" (back office, reports)
CREATE INDEX idx_orders_status_created ON orders (status, created_at);
-- unpaid orders past their expiry (worker)
CREATE INDEX idx_orders_status_expires ON orders (status, expires_at);
-- shipped orders due for auto-confirm (worker)
CREATE INDEX idx_orders_status_shipped ON orders (status, shipped_at);
-- date-range search and export
CREATE INDEX idx_orders_created ON orders (created_at);
CREATE INDEX idx_orders_phone ON orders (phone);

CREATE TABLE order_items (
    order_id        INTEGER        NOT NULL,
    line_no         INTEGER        NOT NULL,
    sku_id          INTEGER        NOT NULL,
    product_id      INTEGER        NOT NULL,
    title           TEXT  NOT NULL,
    spec            TEXT   NOT NULL,
    unit_price_fen  INTEGER        NOT NULL,
    quantity        INTEGER        NOT NULL,
    line_total_fen  INTEGER        NOT NULL,
    cover_url       TEXT  NULL,
    CONSTRAINT pk_order_items PRIMARY KEY (order_id, line_no),
    CONSTRAINT fk_order_items_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT ck_order_items_quantity CHECK (quantity BETWEEN 1 AND 99),
    CONSTRAINT ck_order_items_total CHECK (line_total_fen = unit_price_fen * quantity)
);
CREATE INDEX idx_order_items_sku ON order_items (sku_id);

-- One payment per order: WeChat lets an out_trade_no be paid once.
CREATE TABLE payments (
    id                 INTEGER        NOT NULL,
    order_id           INTEGER        NOT NULL,
    out_trade_no       TEXT   NOT NULL,
    amount_fen         INTEGER        NOT NULL,
    status             TEXT   NOT NULL,
    prepay_id          TEXT  NULL,
    prepay_expires_at  INTEGER        NULL,
    transaction_id     TEXT   NULL,
    paid_at            INTEGER        NULL,
    closed_at          INTEGER        NULL,
    created_at         INTEGER        NOT NULL,
    updated_at         INTEGER        NOT NULL,
    version            INTEGER        NOT NULL DEFAULT 0,
    CONSTRAINT pk_payments PRIMARY KEY (id),
    CONSTRAINT uq_payments_order UNIQUE (order_id),
    CONSTRAINT uq_payments_out_trade_no UNIQUE (out_trade_no),
    CONSTRAINT uq_payments_transaction UNIQUE (transaction_id),
    CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT ck_payments_status CHECK (status IN ('PREPAY_ISSUED', 'SUCCEEDED', 'CLOSED'))
);
-- "pending payments older than" (payment sweep)
CREATE INDEX idx_payments_status_created ON payments (status, created_at);
CREATE INDEX idx_payments_paid_at ON payments (paid_at);

-- The callback inbox: a success is recorded once per WeChat transaction id, whatever path
-- (callback, query) and however many times it arrives.
CREATE TABLE payment_notifications (
    transaction_id   TEXT  NOT NULL,
    out_trade_no     TEXT  NOT NULL,
    amount_fen       INTEGER       NOT NULL,
    source           TEXT  NOT NULL,
    notification_id  TEXT  NULL,
    received_at      INTEGER       NOT NULL,
    payload          TEXT         NOT NULL,
    CONSTRAINT pk_payment_notifications PRIMARY KEY (transaction_id)
);
CREATE INDEX idx_payment_notifications_out_trade_no ON payment_notifications (out_trade_no);

CREATE TABLE refunds (
    id                  INTEGER        NOT NULL,
    order_id            INTEGER        NOT NULL,
    user_id             INTEGER        NOT NULL,
    out_refund_no       TEXT   NOT NULL,
    amount_fen          INTEGER        NOT NULL,
    reason              TEXT  NOT NULL,
    status              TEXT   NOT NULL,
    requested_by        TEXT  NOT NULL,
    requested_at        INTEGER        NOT NULL,
    decided_by          TEXT  NULL,
    decided_at          INTEGER        NULL,
    decision_note       TEXT  NULL,
    provider_refund_id  TEXT   NULL,
    succeeded_at        INTEGER        NULL,
    failure             TEXT  NULL,
    updated_at          INTEGER        NOT NULL,
    version             INTEGER        NOT NULL DEFAULT 0,
    CONSTRAINT pk_refunds PRIMARY KEY (id),
    CONSTRAINT uq_refunds_out_refund_no UNIQUE (out_refund_no),
    CONSTRAINT fk_refunds_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT ck_refunds_amount_positive CHECK (amount_fen > 0),
    CONSTRAINT ck_refunds_status CHECK (status IN ('REQUESTED', 'APPROVED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'REJECTED', 'WITHDRAWN'))
);
CREATE INDEX idx_refunds_order ON refunds (order_id);
CREATE INDEX idx_refunds_status_requested ON refunds (status, requested_at);

CREATE TABLE idempotency_keys (
    scope         TEXT  NOT NULL,
    idem_key      TEXT  NOT NULL,
    fingerprint   TEXT     NOT NULL,
    resource_id   INTEGER       NULL,
    created_at    INTEGER       NOT NULL,
    locked_until  INTEGER       NOT NULL,
    CONSTRAINT pk_idempotency_keys PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE outbox_events (
    id            INTEGER       NOT NULL,
    event_type    TEXT  NOT NULL,
    version       INTEGER       NOT NULL,
    aggregate_id  TEXT  NOT NULL,
    occurred_at   INTEGER       NOT NULL,
    payload       TEXT         NOT NULL,
    published_at  INTEGER       NULL,
    CONSTRAINT pk_outbox_events PRIMARY KEY (id)
);
CREATE INDEX idx_outbox_events_unpublished ON outbox_events (published_at, id);
CREATE INDEX idx_outbox_events_aggregate ON outbox_events (aggregate_id, id);

-- Append-only, hash-chained. The application never updates or deletes a row (7-year retention).
CREATE TABLE audit_log (
    seq          INTEGER        NOT NULL,
    at           INTEGER        NOT NULL,
    actor        TEXT  NOT NULL,
    action       TEXT   NOT NULL,
    target_type  TEXT   NOT NULL,
    target_id    TEXT   NOT NULL,
    before_json  TEXT          NOT NULL,
    after_json   TEXT          NOT NULL,
    prev_hash    TEXT      NOT NULL,
    hash         TEXT      NOT NULL,
    CONSTRAINT pk_audit_log PRIMARY KEY (seq)
);
CREATE INDEX idx_audit_log_target ON audit_log (target_type, target_id);
CREATE INDEX idx_audit_log_at ON audit_log (at);

-- The chain's head, locked by each append so appends are strictly sequential.
CREATE TABLE audit_head (
    id    INTEGER    NOT NULL,
    seq   INTEGER    NOT NULL,
    hash  TEXT  NOT NULL,
    CONSTRAINT pk_audit_head PRIMARY KEY (id),
    CONSTRAINT ck_audit_head_single CHECK (id = 1)
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- One row per worker job: whoever holds the lease runs it.
CREATE TABLE job_leases (
    job               TEXT    NOT NULL,
    owner             TEXT   NULL,
    lease_until       INTEGER         NULL,
    last_started_at   INTEGER         NULL,
    last_finished_at  INTEGER         NULL,
    last_ok           INTEGER        NULL,
    last_note         TEXT  NULL,
    CONSTRAINT pk_job_leases PRIMARY KEY (job)
);
