-- Worker claims: a job claims due rows (FOR UPDATE SKIP LOCKED, then these columns), so that
-- several worker replicas never work on the same order, payment or refund at once. A claim
-- lapses on its own when `claimed_until` passes (a worker died mid-way).
ALTER TABLE orders ADD COLUMN claimed_by VARCHAR(128) NULL, ADD COLUMN claimed_until BIGINT NULL;
ALTER TABLE payments ADD COLUMN claimed_by VARCHAR(128) NULL, ADD COLUMN claimed_until BIGINT NULL;
ALTER TABLE refunds ADD COLUMN claimed_by VARCHAR(128) NULL, ADD COLUMN claimed_until BIGINT NULL;
CREATE INDEX idx_refunds_succeeded ON refunds (status, succeeded_at);

-- Daily reconciliation against WeChat's trade bill: one report per China date, replaced when
-- the day is reconciled again, and its differences.
CREATE TABLE recon_reports (
    report_date       CHAR(10)      NOT NULL,
    generated_at      BIGINT        NOT NULL,
    bill_count        BIGINT        NOT NULL,
    bill_settled_fen  BIGINT        NOT NULL,
    bill_refund_fen   BIGINT        NOT NULL,
    local_count       BIGINT        NOT NULL,
    local_paid_fen    BIGINT        NOT NULL,
    local_refund_fen  BIGINT        NOT NULL,
    differences       BIGINT        NOT NULL,
    CONSTRAINT pk_recon_reports PRIMARY KEY (report_date)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE recon_diffs (
    report_date     CHAR(10)      NOT NULL,
    seq             BIGINT        NOT NULL,
    kind            VARCHAR(32)   NOT NULL,
    out_trade_no    VARCHAR(32)   NULL,
    transaction_id  VARCHAR(64)   NULL,
    out_refund_no   VARCHAR(64)   NULL,
    local_fen       BIGINT        NULL,
    wechat_fen      BIGINT        NULL,
    detail          VARCHAR(400)  NOT NULL,
    CONSTRAINT pk_recon_diffs PRIMARY KEY (report_date, seq),
    CONSTRAINT fk_recon_diffs_report FOREIGN KEY (report_date) REFERENCES recon_reports (report_date) ON DELETE CASCADE,
    CONSTRAINT ck_recon_diffs_kind CHECK (kind IN ('MISSING_LOCALLY', 'MISSING_AT_WECHAT', 'AMOUNT_MISMATCH',
        'REFUND_MISSING_LOCALLY', 'REFUND_MISSING_AT_WECHAT', 'REFUND_AMOUNT_MISMATCH'))
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
