-- Rice shop schema, MySQL / MariaDB dialect (portable to TiDB: no RETURNING, no stored code).
-- Conventions: ids are application-generated BIGINTs below 2^53; money is BIGINT fen; instants
-- are BIGINT milliseconds since the Unix epoch (UTC); every constraint and index is named.

CREATE TABLE users (
    id          BIGINT       NOT NULL,
    openid      VARCHAR(64)  NOT NULL,
    unionid     VARCHAR(64)  NULL,
    nickname    VARCHAR(64)  NULL,
    created_at  BIGINT       NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY (id),
    CONSTRAINT uq_users_openid UNIQUE (openid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE sessions (
    token_hash      CHAR(64)     NOT NULL,
    user_id         BIGINT       NOT NULL,
    wx_session_key  VARCHAR(128) NULL,
    created_at      BIGINT       NOT NULL,
    expires_at      BIGINT       NOT NULL,
    CONSTRAINT pk_sessions PRIMARY KEY (token_hash),
    CONSTRAINT fk_sessions_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_sessions_expires ON sessions (expires_at);

CREATE TABLE operators (
    id             BIGINT       NOT NULL,
    username       VARCHAR(32)  NOT NULL,
    password_hash  VARCHAR(255) NOT NULL,
    role           VARCHAR(16)  NOT NULL,
    disabled       BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at     BIGINT       NOT NULL,
    updated_at     BIGINT       NOT NULL,
    CONSTRAINT pk_operators PRIMARY KEY (id),
    CONSTRAINT uq_operators_username UNIQUE (username),
    CONSTRAINT ck_operators_role CHECK (role IN ('admin', 'operator', 'finance'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE operator_sessions (
    token_hash   CHAR(64) NOT NULL,
    operator_id  BIGINT   NOT NULL,
    created_at   BIGINT   NOT NULL,
    expires_at   BIGINT   NOT NULL,
    CONSTRAINT pk_operator_sessions PRIMARY KEY (token_hash),
    CONSTRAINT fk_operator_sessions_operator FOREIGN KEY (operator_id) REFERENCES operators (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE addresses (
    id          BIGINT       NOT NULL,
    user_id     BIGINT       NOT NULL,
    receiver    VARCHAR(40)  NOT NULL,
    phone       VARCHAR(20)  NOT NULL,
    province    VARCHAR(40)  NOT NULL,
    city        VARCHAR(40)  NOT NULL,
    district    VARCHAR(40)  NOT NULL,
    detail      VARCHAR(255) NOT NULL,
    is_default  BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at  BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL,
    CONSTRAINT pk_addresses PRIMARY KEY (id),
    CONSTRAINT fk_addresses_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_addresses_user ON addresses (user_id, updated_at);

CREATE TABLE products (
    id           BIGINT        NOT NULL,
    title        VARCHAR(120)  NOT NULL,
    description  TEXT          NOT NULL,
    status       VARCHAR(16)   NOT NULL,
    sort         BIGINT        NOT NULL DEFAULT 0,
    created_at   BIGINT        NOT NULL,
    updated_at   BIGINT        NOT NULL,
    CONSTRAINT pk_products PRIMARY KEY (id),
    CONSTRAINT ck_products_status CHECK (status IN ('ON_SALE', 'OFF_SALE', 'DELETED'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_products_shelf ON products (status, sort, id);

CREATE TABLE product_images (
    id          BIGINT       NOT NULL,
    product_id  BIGINT       NOT NULL,
    url         VARCHAR(512) NOT NULL,
    sort        BIGINT       NOT NULL DEFAULT 0,
    CONSTRAINT pk_product_images PRIMARY KEY (id),
    CONSTRAINT fk_product_images_product FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_product_images_product ON product_images (product_id, sort);

CREATE TABLE skus (
    id          BIGINT       NOT NULL,
    product_id  BIGINT       NOT NULL,
    spec        VARCHAR(80)  NOT NULL,
    price_fen   BIGINT       NOT NULL,
    enabled     BOOLEAN      NOT NULL DEFAULT TRUE,
    sort        BIGINT       NOT NULL DEFAULT 0,
    created_at  BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL,
    CONSTRAINT pk_skus PRIMARY KEY (id),
    CONSTRAINT fk_skus_product FOREIGN KEY (product_id) REFERENCES products (id),
    CONSTRAINT ck_skus_price_positive CHECK (price_fen > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_skus_product ON skus (product_id, sort);

-- The authority on stock. Reservation is `UPDATE … SET reserved = reserved + q WHERE
-- on_hand - reserved >= q`; the checks make an oversell impossible even for a buggy writer.
CREATE TABLE inventory (
    sku_id      BIGINT NOT NULL,
    on_hand     BIGINT NOT NULL,
    reserved    BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL,
    CONSTRAINT pk_inventory PRIMARY KEY (sku_id),
    CONSTRAINT fk_inventory_sku FOREIGN KEY (sku_id) REFERENCES skus (id),
    CONSTRAINT ck_inventory_on_hand_non_negative CHECK (on_hand >= 0),
    CONSTRAINT ck_inventory_reserved_non_negative CHECK (reserved >= 0),
    CONSTRAINT ck_inventory_reserved_within_on_hand CHECK (reserved <= on_hand)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE cart_items (
    user_id     BIGINT NOT NULL,
    sku_id      BIGINT NOT NULL,
    quantity    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CONSTRAINT pk_cart_items PRIMARY KEY (user_id, sku_id),
    CONSTRAINT fk_cart_items_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ck_cart_items_quantity CHECK (quantity BETWEEN 1 AND 99)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE orders (
    id                  BIGINT        NOT NULL,
    order_no            VARCHAR(32)   NOT NULL,
    user_id             BIGINT        NOT NULL,
    status              VARCHAR(20)   NOT NULL,
    items_total_fen     BIGINT        NOT NULL,
    shipping_fee_fen    BIGINT        NOT NULL,
    payable_fen         BIGINT        NOT NULL,
    paid_fen            BIGINT        NOT NULL DEFAULT 0,
    refunded_fen        BIGINT        NOT NULL DEFAULT 0,
    refund_pending_fen  BIGINT        NOT NULL DEFAULT 0,
    receiver            VARCHAR(40)   NOT NULL,
    phone               VARCHAR(20)   NOT NULL,
    province            VARCHAR(40)   NOT NULL,
    city                VARCHAR(40)   NOT NULL,
    district            VARCHAR(40)   NOT NULL,
    detail              VARCHAR(255)  NOT NULL,
    remark              VARCHAR(400)  NOT NULL DEFAULT '',
    created_at          BIGINT        NOT NULL,
    expires_at          BIGINT        NOT NULL,
    paid_at             BIGINT        NULL,
    carrier             VARCHAR(60)   NULL,
    tracking_no         VARCHAR(40)   NULL,
    shipped_at          BIGINT        NULL,
    completed_at        BIGINT        NULL,
    cancelled_at        BIGINT        NULL,
    cancel_reason       VARCHAR(16)   NULL,
    cancel_note         VARCHAR(400)  NULL,
    late_payment        BOOLEAN       NOT NULL DEFAULT FALSE,
    updated_at          BIGINT        NOT NULL,
    version             BIGINT        NOT NULL DEFAULT 0,
    CONSTRAINT pk_orders PRIMARY KEY (id),
    CONSTRAINT uq_orders_order_no UNIQUE (order_no),
    CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES users (id),
    CONSTRAINT ck_orders_status CHECK (status IN ('PENDING_PAYMENT', 'PAID', 'SHIPPED', 'COMPLETED', 'CANCELLED', 'REFUNDED')),
    CONSTRAINT ck_orders_amounts CHECK (items_total_fen >= 0 AND shipping_fee_fen >= 0 AND payable_fen = items_total_fen + shipping_fee_fen),
    CONSTRAINT ck_orders_refunds_within_paid CHECK (refunded_fen >= 0 AND refund_pending_fen >= 0 AND refunded_fen + refund_pending_fen <= paid_fen)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
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
    order_id        BIGINT        NOT NULL,
    line_no         BIGINT        NOT NULL,
    sku_id          BIGINT        NOT NULL,
    product_id      BIGINT        NOT NULL,
    title           VARCHAR(120)  NOT NULL,
    spec            VARCHAR(80)   NOT NULL,
    unit_price_fen  BIGINT        NOT NULL,
    quantity        BIGINT        NOT NULL,
    line_total_fen  BIGINT        NOT NULL,
    cover_url       VARCHAR(512)  NULL,
    CONSTRAINT pk_order_items PRIMARY KEY (order_id, line_no),
    CONSTRAINT fk_order_items_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT ck_order_items_quantity CHECK (quantity BETWEEN 1 AND 99),
    CONSTRAINT ck_order_items_total CHECK (line_total_fen = unit_price_fen * quantity)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_order_items_sku ON order_items (sku_id);

-- One payment per order: WeChat lets an out_trade_no be paid once.
CREATE TABLE payments (
    id                 BIGINT        NOT NULL,
    order_id           BIGINT        NOT NULL,
    out_trade_no       VARCHAR(32)   NOT NULL,
    amount_fen         BIGINT        NOT NULL,
    status             VARCHAR(16)   NOT NULL,
    prepay_id          VARCHAR(128)  NULL,
    prepay_expires_at  BIGINT        NULL,
    transaction_id     VARCHAR(64)   NULL,
    paid_at            BIGINT        NULL,
    closed_at          BIGINT        NULL,
    created_at         BIGINT        NOT NULL,
    updated_at         BIGINT        NOT NULL,
    version            BIGINT        NOT NULL DEFAULT 0,
    CONSTRAINT pk_payments PRIMARY KEY (id),
    CONSTRAINT uq_payments_order UNIQUE (order_id),
    CONSTRAINT uq_payments_out_trade_no UNIQUE (out_trade_no),
    CONSTRAINT uq_payments_transaction UNIQUE (transaction_id),
    CONSTRAINT fk_payments_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT ck_payments_status CHECK (status IN ('PREPAY_ISSUED', 'SUCCEEDED', 'CLOSED'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
-- "pending payments older than" (payment sweep)
CREATE INDEX idx_payments_status_created ON payments (status, created_at);
CREATE INDEX idx_payments_paid_at ON payments (paid_at);

-- The callback inbox: a success is recorded once per WeChat transaction id, whatever path
-- (callback, query) and however many times it arrives.
CREATE TABLE payment_notifications (
    transaction_id   VARCHAR(64)  NOT NULL,
    out_trade_no     VARCHAR(32)  NOT NULL,
    amount_fen       BIGINT       NOT NULL,
    source           VARCHAR(16)  NOT NULL,
    notification_id  VARCHAR(64)  NULL,
    received_at      BIGINT       NOT NULL,
    payload          TEXT         NOT NULL,
    CONSTRAINT pk_payment_notifications PRIMARY KEY (transaction_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_payment_notifications_out_trade_no ON payment_notifications (out_trade_no);

CREATE TABLE refunds (
    id                  BIGINT        NOT NULL,
    order_id            BIGINT        NOT NULL,
    user_id             BIGINT        NOT NULL,
    out_refund_no       VARCHAR(64)   NOT NULL,
    amount_fen          BIGINT        NOT NULL,
    reason              VARCHAR(400)  NOT NULL,
    status              VARCHAR(16)   NOT NULL,
    requested_by        VARCHAR(100)  NOT NULL,
    requested_at        BIGINT        NOT NULL,
    decided_by          VARCHAR(100)  NULL,
    decided_at          BIGINT        NULL,
    decision_note       VARCHAR(400)  NULL,
    provider_refund_id  VARCHAR(64)   NULL,
    succeeded_at        BIGINT        NULL,
    failure             VARCHAR(400)  NULL,
    updated_at          BIGINT        NOT NULL,
    version             BIGINT        NOT NULL DEFAULT 0,
    CONSTRAINT pk_refunds PRIMARY KEY (id),
    CONSTRAINT uq_refunds_out_refund_no UNIQUE (out_refund_no),
    CONSTRAINT fk_refunds_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT ck_refunds_amount_positive CHECK (amount_fen > 0),
    CONSTRAINT ck_refunds_status CHECK (status IN ('REQUESTED', 'APPROVED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'REJECTED', 'WITHDRAWN'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_refunds_order ON refunds (order_id);
CREATE INDEX idx_refunds_status_requested ON refunds (status, requested_at);

CREATE TABLE idempotency_keys (
    scope         VARCHAR(64)  NOT NULL,
    idem_key      VARCHAR(64)  NOT NULL,
    fingerprint   CHAR(64)     NOT NULL,
    resource_id   BIGINT       NULL,
    created_at    BIGINT       NOT NULL,
    locked_until  BIGINT       NOT NULL,
    CONSTRAINT pk_idempotency_keys PRIMARY KEY (scope, idem_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE outbox_events (
    id            BIGINT       NOT NULL,
    event_type    VARCHAR(64)  NOT NULL,
    version       BIGINT       NOT NULL,
    aggregate_id  VARCHAR(64)  NOT NULL,
    occurred_at   BIGINT       NOT NULL,
    payload       TEXT         NOT NULL,
    published_at  BIGINT       NULL,
    CONSTRAINT pk_outbox_events PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_outbox_events_unpublished ON outbox_events (published_at, id);
CREATE INDEX idx_outbox_events_aggregate ON outbox_events (aggregate_id, id);

-- Append-only, hash-chained. The application never updates or deletes a row (7-year retention).
CREATE TABLE audit_log (
    seq          BIGINT        NOT NULL,
    at           BIGINT        NOT NULL,
    actor        VARCHAR(100)  NOT NULL,
    action       VARCHAR(64)   NOT NULL,
    target_type  VARCHAR(32)   NOT NULL,
    target_id    VARCHAR(64)   NOT NULL,
    before_json  TEXT          NOT NULL,
    after_json   TEXT          NOT NULL,
    prev_hash    CHAR(64)      NOT NULL,
    hash         CHAR(64)      NOT NULL,
    CONSTRAINT pk_audit_log PRIMARY KEY (seq)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX idx_audit_log_target ON audit_log (target_type, target_id);
CREATE INDEX idx_audit_log_at ON audit_log (at);

-- The chain's head, locked by each append so appends are strictly sequential.
CREATE TABLE audit_head (
    id    BIGINT    NOT NULL,
    seq   BIGINT    NOT NULL,
    hash  CHAR(64)  NOT NULL,
    CONSTRAINT pk_audit_head PRIMARY KEY (id),
    CONSTRAINT ck_audit_head_single CHECK (id = 1)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- One row per worker job: whoever holds the lease runs it.
CREATE TABLE job_leases (
    job               VARCHAR(64)    NOT NULL,
    owner             VARCHAR(128)   NULL,
    lease_until       BIGINT         NULL,
    last_started_at   BIGINT         NULL,
    last_finished_at  BIGINT         NULL,
    last_ok           BOOLEAN        NULL,
    last_note         VARCHAR(1000)  NULL,
    CONSTRAINT pk_job_leases PRIMARY KEY (job)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
