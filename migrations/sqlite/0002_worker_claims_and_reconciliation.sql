-- Worker claims: a job claims due rows (the single SQLite writer makes the claim atomic), so
-- that several workers never work on the same order, payment or refund at once. A claim lapses
-- on its own when `claimed_until` passes (a worker died mid-way).
ALTER TABLE orders ADD COLUMN claimed_by TEXT NULL;
ALTER TABLE orders ADD COLUMN claimed_until INTEGER NULL;
ALTER TABLE payments ADD COLUMN claimed_by TEXT NULL;
ALTER TABLE payments ADD COLUMN claimed_until INTEGER NULL;
ALTER TABLE refunds ADD COLUMN claimed_by TEXT NULL;
ALTER TABLE refunds ADD COLUMN claimed_until INTEGER NULL;
CREATE INDEX idx_refunds_succeeded ON refunds (status, succeeded_at);

-- Daily reconciliation against WeChat's trade bill: one report per China date, replaced when
-- the day is reconciled again, and its differences.
CREATE TABLE recon_reports (
    report_date       TEXT     NOT NULL,
    generated_at      INTEGER  NOT NULL,
    bill_count        INTEGER  NOT NULL,
    bill_settled_fen  INTEGER  NOT NULL,
    bill_refund_fen   INTEGER  NOT NULL,
    local_count       INTEGER  NOT NULL,
    local_paid_fen    INTEGER  NOT NULL,
    local_refund_fen  INTEGER  NOT NULL,
    differences       INTEGER  NOT NULL,
    CONSTRAINT pk_recon_reports PRIMARY KEY (report_date)
);

CREATE TABLE recon_diffs (
    report_date     TEXT     NOT NULL,
    seq             INTEGER  NOT NULL,
    kind            TEXT     NOT NULL,
    out_trade_no    TEXT     NULL,
    transaction_id  TEXT     NULL,
    out_refund_no   TEXT     NULL,
    local_fen       INTEGER  NULL,
    wechat_fen      INTEGER  NULL,
    detail          TEXT     NOT NULL,
    CONSTRAINT pk_recon_diffs PRIMARY KEY (report_date, seq),
    CONSTRAINT fk_recon_diffs_report FOREIGN KEY (report_date) REFERENCES recon_reports (report_date) ON DELETE CASCADE,
    CONSTRAINT ck_recon_diffs_kind CHECK (kind IN ('MISSING_LOCALLY', 'MISSING_AT_WECHAT', 'AMOUNT_MISMATCH',
        'REFUND_MISSING_LOCALLY', 'REFUND_MISSING_AT_WECHAT', 'REFUND_AMOUNT_MISMATCH'))
);
