//! The trade bill (交易账单) CSV: a header row, data rows whose every field starts with a
//! backtick (so that spreadsheets keep long numbers as text), then a summary header and a
//! summary row. Amounts are yuan with two decimals and become fen by digits, never through
//! floating point. A bill that does not add up is refused: reconciliation built on a truncated
//! or altered file would report differences that are not there.

use shop_core::ports::{BillRow, TradeBill};
use shop_core::time::BizDate;
use shop_core::Fen;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillError {
    #[error("the bill is empty")]
    Empty,
    #[error("the header has no column {0}")]
    MissingColumn(&'static str),
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("the bill has no summary (truncated?)")]
    NoSummary,
    #[error("the summary says {summary} rows, the bill has {rows}")]
    CountMismatch { summary: i64, rows: i64 },
    #[error("the summary's {column} is {summary}, the rows add up to {rows}")]
    TotalMismatch {
        column: &'static str,
        summary: String,
        rows: String,
    },
}

/// Column names, as WeChat writes them.
const TRADE_TIME: &str = "交易时间";
const TRANSACTION_ID: &str = "微信订单号";
const OUT_TRADE_NO: &str = "商户订单号";
const TRADE_STATE: &str = "交易状态";
const SETTLED: &str = "应结订单金额";
const REFUND_ID: &str = "微信退款单号";
const OUT_REFUND_NO: &str = "商户退款单号";
const REFUND: &str = "退款金额";
const REFUND_STATUS: &str = "退款状态";
const FEE: &str = "手续费";
const SUM_COUNT: &str = "总交易单数";
const SUM_SETTLED: &str = "应结订单总金额";
const SUM_REFUND: &str = "退款总金额";
const SUM_FEE: &str = "手续费总金额";

/// A header line: plain comma-separated names.
fn header_fields(line: &str) -> Vec<String> {
    line.split(',').map(|f| f.trim().to_string()).collect()
}

/// A data line: every field starts with a backtick, so splitting on ",`" keeps a comma inside a
/// product name where it belongs.
fn data_fields(line: &str) -> Option<Vec<String>> {
    let rest = line.trim().strip_prefix('`')?;
    Some(rest.split(",`").map(|f| f.trim().to_string()).collect())
}

fn column(header: &[String], name: &'static str) -> Result<usize, BillError> {
    header
        .iter()
        .position(|c| c == name)
        .ok_or(BillError::MissingColumn(name))
}

fn fen(line: usize, name: &str, s: &str) -> Result<Fen, BillError> {
    Fen::parse_yuan(s).map_err(|_| BillError::Line {
        line,
        problem: format!("{name} `{s}` is not a yuan amount"),
    })
}

/// WeChat writes `0` for "none" in the id columns of payment rows.
fn opt(s: &str) -> Option<String> {
    (!s.is_empty() && s != "0").then(|| s.to_string())
}

/// Parses the bill of `date`.
pub fn parse(date: BizDate, csv: &str) -> Result<TradeBill, BillError> {
    let mut lines = csv
        .trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or(BillError::Empty)?;
    let header = header_fields(header);
    let c_time = column(&header, TRADE_TIME)?;
    let c_tx = column(&header, TRANSACTION_ID)?;
    let c_no = column(&header, OUT_TRADE_NO)?;
    let c_state = column(&header, TRADE_STATE)?;
    let c_settled = column(&header, SETTLED)?;
    let c_refund_id = column(&header, REFUND_ID)?;
    let c_refund_no = column(&header, OUT_REFUND_NO)?;
    let c_refund = column(&header, REFUND)?;
    let c_refund_status = column(&header, REFUND_STATUS)?;
    let c_fee = column(&header, FEE)?;

    let mut rows = Vec::new();
    let mut summary = None;
    while let Some((n, line)) = lines.next() {
        let Some(f) = data_fields(line) else {
            // The summary header; the next line holds the totals.
            let names = header_fields(line);
            let (m, totals) = lines.next().ok_or(BillError::NoSummary)?;
            let values = data_fields(totals).ok_or(BillError::NoSummary)?;
            summary = Some((m, names, values));
            break;
        };
        if f.len() != header.len() {
            return Err(BillError::Line {
                line: n,
                problem: format!("{} fields, the header has {}", f.len(), header.len()),
            });
        }
        rows.push(BillRow {
            trade_time: f[c_time].clone(),
            transaction_id: f[c_tx].clone(),
            out_trade_no: f[c_no].clone(),
            trade_state: f[c_state].clone(),
            settled_amount: fen(n, SETTLED, &f[c_settled])?,
            refund_id: opt(&f[c_refund_id]),
            out_refund_no: opt(&f[c_refund_no]),
            refund_amount: fen(n, REFUND, &f[c_refund])?,
            refund_status: opt(&f[c_refund_status]),
            fee: fen(n, FEE, &f[c_fee])?,
        });
    }
    let (m, names, values) = summary.ok_or(BillError::NoSummary)?;
    if let Some((n, _)) = lines.next() {
        return Err(BillError::Line {
            line: n,
            problem: "text after the summary".into(),
        });
    }
    if names.len() != values.len() {
        return Err(BillError::Line {
            line: m,
            problem: format!("{} totals for {} names", values.len(), names.len()),
        });
    }
    let total = |name: &'static str| -> Result<&str, BillError> {
        Ok(values[column(&names, name)?].as_str())
    };
    let count = total(SUM_COUNT)?;
    let total_count: i64 = count.parse().map_err(|_| BillError::Line {
        line: m,
        problem: format!("{SUM_COUNT} `{count}` is not a number"),
    })?;
    let bill = TradeBill {
        date,
        total_count,
        total_settled: fen(m, SUM_SETTLED, total(SUM_SETTLED)?)?,
        total_refund: fen(m, SUM_REFUND, total(SUM_REFUND)?)?,
        total_fee: fen(m, SUM_FEE, total(SUM_FEE)?)?,
        rows,
    };
    check_totals(&bill)?;
    Ok(bill)
}

fn check_totals(b: &TradeBill) -> Result<(), BillError> {
    let rows = i64::try_from(b.rows.len()).unwrap_or(i64::MAX);
    if b.total_count != rows {
        return Err(BillError::CountMismatch {
            summary: b.total_count,
            rows,
        });
    }
    let sums = [
        (
            SUM_SETTLED,
            b.total_settled,
            b.rows.iter().map(|r| r.settled_amount).sum::<Fen>(),
        ),
        (
            SUM_REFUND,
            b.total_refund,
            b.rows.iter().map(|r| r.refund_amount).sum(),
        ),
        (SUM_FEE, b.total_fee, b.rows.iter().map(|r| r.fee).sum()),
    ];
    for (column, summary, rows) in sums {
        if summary != rows {
            return Err(BillError::TotalMismatch {
                column,
                summary: summary.to_yuan(),
                rows: rows.to_yuan(),
            });
        }
    }
    Ok(())
}

/// Writes a bill in WeChat's format; the sandbox serves it. Columns the shop does not read are
/// filled as WeChat fills them for a JSAPI payment.
pub fn render(bill: &TradeBill, mchid: &str, appid: &str) -> String {
    let mut out = String::from("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\n");
    for r in &bill.rows {
        let refund = r.refund_amount.to_yuan();
        let cols = [
            r.trade_time.clone(),
            appid.to_string(),
            mchid.to_string(),
            "0".into(),
            String::new(),
            r.transaction_id.clone(),
            r.out_trade_no.clone(),
            String::new(),
            "JSAPI".into(),
            r.trade_state.clone(),
            "OTHERS".into(),
            "CNY".into(),
            r.settled_amount.to_yuan(),
            "0.00".into(),
            r.refund_id.clone().unwrap_or_else(|| "0".into()),
            r.out_refund_no.clone().unwrap_or_else(|| "0".into()),
            refund.clone(),
            "0.00".into(),
            if r.out_refund_no.is_some() {
                "ORIGINAL".into()
            } else {
                String::new()
            },
            r.refund_status.clone().unwrap_or_default(),
            "五常大米".into(),
            String::new(),
            r.fee.to_yuan(),
            "0.60%".into(),
            r.settled_amount.to_yuan(),
            refund,
            String::new(),
        ];
        let line: Vec<String> = cols.iter().map(|c| format!("`{c}")).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n");
    out.push_str(&format!(
        "`{},`{},`{},`0.00,`{},`{},`{}\n",
        bill.rows.len(),
        bill.total_settled.to_yuan(),
        bill.total_refund.to_yuan(),
        bill.total_fee.to_yuan(),
        bill.total_settled.to_yuan(),
        bill.total_refund.to_yuan()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../testdata/tradebill_2026-11-24_ALL.csv");

    fn date() -> BizDate {
        BizDate::parse("2026-11-24").unwrap()
    }

    #[test]
    fn a_comma_in_a_product_name_stays_in_its_field() {
        let csv = FIXTURE.replacen("`五常大米 5kg x2,", "`五常大米 5kg, 2袋,", 1);
        assert_ne!(csv, FIXTURE);
        let b = parse(date(), &csv).unwrap();
        assert_eq!(b.rows[1].settled_amount, Fen::new(25800));
        assert_eq!(b.rows[1].fee, Fen::new(155));
    }

    #[test]
    fn a_byte_order_mark_and_crlf_are_fine() {
        let csv = format!("\u{feff}{}", FIXTURE.replace('\n', "\r\n"));
        assert_eq!(parse(date(), &csv).unwrap().rows.len(), 3);
    }

    #[test]
    fn totals_that_do_not_add_up_are_refused() {
        let csv = FIXTURE.replacen("`2.06,", "`2.07,", 1);
        assert_eq!(
            parse(date(), &csv),
            Err(BillError::TotalMismatch {
                column: SUM_FEE,
                summary: "2.07".into(),
                rows: "2.06".into()
            })
        );
        let csv = FIXTURE.replacen("`43.00,`0.00,`ORIGINAL", "`42.00,`0.00,`ORIGINAL", 1);
        assert!(matches!(
            parse(date(), &csv),
            Err(BillError::TotalMismatch {
                column: SUM_REFUND,
                ..
            })
        ));
    }

    #[test]
    fn every_prefix_of_the_bill_is_an_error_or_the_bill_never_a_panic() {
        for cut in 0..FIXTURE.len() {
            if FIXTURE.is_char_boundary(cut) {
                let _ = parse(date(), &FIXTURE[..cut]);
            }
        }
    }
}
