//! The trade bill: the fixture to exact fen, and broken files refused clearly.

use crate::support::testdata;
use shop_core::time::BizDate;
use shop_core::Fen;
use shop_wechat_pay::bill::{parse, render, BillError};

fn date() -> BizDate {
    BizDate::parse("2026-11-24").unwrap()
}

fn fixture() -> String {
    testdata("tradebill_2026-11-24_ALL.csv")
}

#[test]
fn the_fixture_bill_in_fen() {
    let b = parse(date(), &fixture()).unwrap();
    assert_eq!(b.date, date());
    assert_eq!(b.rows.len(), 3);
    assert_eq!(
        (b.total_count, b.total_settled, b.total_refund, b.total_fee),
        (3, Fen::new(38700), Fen::new(4300), Fen::new(206))
    );
    let first = &b.rows[0];
    assert_eq!(first.trade_time, "2026-11-24 10:05:33");
    assert_eq!(first.transaction_id, "4200002026112412345678901234");
    assert_eq!(first.out_trade_no, "R20261124000001");
    assert_eq!(
        (first.trade_state.as_str(), first.settled_amount, first.fee),
        ("SUCCESS", Fen::new(12900), Fen::new(77))
    );
    assert_eq!(
        (
            first.refund_id.as_deref(),
            first.out_refund_no.as_deref(),
            first.refund_status.as_deref()
        ),
        (None, None, None)
    );
    assert_eq!(first.refund_amount, Fen::ZERO);
    assert_eq!(b.rows[1].settled_amount, Fen::new(25800));
    let refund = &b.rows[2];
    assert_eq!(
        (refund.trade_state.as_str(), refund.settled_amount),
        ("REFUND", Fen::ZERO)
    );
    assert_eq!(
        (refund.refund_amount, refund.fee),
        (Fen::new(4300), Fen::new(-26))
    );
    assert_eq!(refund.out_refund_no.as_deref(), Some("RF20261124000001"));
    assert_eq!(
        refund.refund_id.as_deref(),
        Some("50300002026112412345678901")
    );
    assert_eq!(refund.refund_status.as_deref(), Some("SUCCESS"));
    // The sandbox writes bills the parser reads back the same.
    let again = parse(date(), &render(&b, "1900000109", "wx8888888888888888")).unwrap();
    assert_eq!(again, b);
}

#[test]
fn broken_bills_are_refused_with_a_reason() {
    let good = fixture();
    let lines: Vec<&str> = good.lines().collect();
    assert_eq!(parse(date(), ""), Err(BillError::Empty));
    assert_eq!(parse(date(), "\n\n"), Err(BillError::Empty));
    // Truncated before the summary, or inside it.
    assert_eq!(
        parse(date(), &lines[..4].join("\n")),
        Err(BillError::NoSummary)
    );
    assert_eq!(
        parse(date(), &lines[..5].join("\n")),
        Err(BillError::NoSummary)
    );
    // Three decimals would need a float to mean anything.
    let float_trap = good.replacen("`129.00", "`129.001", 1);
    assert!(matches!(
        parse(date(), &float_trap),
        Err(BillError::Line { line: 2, .. })
    ));
    let letters = good.replacen("`258.00", "`2x8.00", 1);
    assert!(
        matches!(parse(date(), &letters), Err(BillError::Line { line: 3, ref problem }) if problem.contains("2x8.00"))
    );
    // A row lost in transit, or a field.
    let lost_row: Vec<&str> = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| *l)
        .collect();
    assert_eq!(
        parse(date(), &lost_row.join("\n")),
        Err(BillError::CountMismatch {
            summary: 3,
            rows: 2
        })
    );
    let lost_field = good.replacen(",`JSAPI", "", 1);
    assert!(matches!(
        parse(date(), &lost_field),
        Err(BillError::Line { line: 2, .. })
    ));
    // Not a bill at all.
    assert_eq!(
        parse(date(), "a,b,c\n`1,`2,`3\n"),
        Err(BillError::MissingColumn("交易时间"))
    );
    let no_fee = good.replacen(",手续费,", ",手续,", 1);
    assert_eq!(
        parse(date(), &no_fee),
        Err(BillError::MissingColumn("手续费"))
    );
    let trailing = format!("{good}`garbage\n");
    assert!(matches!(
        parse(date(), &trailing),
        Err(BillError::Line { .. })
    ));
}

#[test]
fn an_empty_day_is_a_bill_with_no_rows() {
    let csv = format!("{}\n总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n`0,`0.00,`0.00,`0.00,`0.00,`0.00,`0.00\n", fixture().lines().next().unwrap());
    let b = parse(date(), &csv).unwrap();
    assert_eq!(
        (b.rows.len(), b.total_count, b.total_settled),
        (0, 0, Fen::ZERO)
    );
}
