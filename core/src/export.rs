//! The order export: CSV, one row per order line, amounts in yuan, times in China time, UTF-8
//! with a byte-order mark so that Excel opens the Chinese text correctly. Shared by the API's
//! streamed download and the CLI.

use crate::order::Order;
use crate::time::Timestamp;

/// Starts the file: Excel needs the BOM to read UTF-8.
pub const BOM: &str = "\u{feff}";

pub const HEADER: [&str; 23] = [
    "订单号",
    "下单时间",
    "状态",
    "买家ID",
    "收货人",
    "电话",
    "省",
    "市",
    "区",
    "详细地址",
    "商品",
    "规格",
    "单价(元)",
    "数量",
    "小计(元)",
    "运费(元)",
    "应付(元)",
    "实付(元)",
    "已退款(元)",
    "支付时间",
    "物流公司",
    "运单号",
    "备注",
];

/// A text cell that a spreadsheet could take for a formula (`=`, `+`, `-`, `@`) gets a leading
/// apostrophe: shoppers write remarks and names, and a remark must never run as a formula.
fn text(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

fn opt_time(t: Option<Timestamp>) -> String {
    t.map(Timestamp::to_cn_datetime).unwrap_or_default()
}

/// The rows of one order, one per line.
pub fn rows(o: &Order) -> Vec<Vec<String>> {
    o.lines
        .iter()
        .map(|l| {
            vec![
                o.order_no.to_string(),
                o.created_at.to_cn_datetime(),
                o.status.as_str().to_string(),
                o.user_id.to_string(),
                text(o.address.receiver.as_str()),
                o.address.phone.to_string(),
                text(o.address.province.as_str()),
                text(o.address.city.as_str()),
                text(o.address.district.as_str()),
                text(o.address.detail.as_str()),
                text(l.title.as_str()),
                text(l.spec.as_str()),
                l.unit_price.to_yuan(),
                l.quantity.get().to_string(),
                l.line_total.to_yuan(),
                o.shipping_fee.to_yuan(),
                o.payable.to_yuan(),
                o.paid.to_yuan(),
                o.refunded.to_yuan(),
                opt_time(o.paid_at),
                o.shipment
                    .as_ref()
                    .map(|s| text(s.carrier.as_str()))
                    .unwrap_or_default(),
                o.shipment
                    .as_ref()
                    .map(|s| text(s.tracking_no.as_str()))
                    .unwrap_or_default(),
                text(o.remark.as_str()),
            ]
        })
        .collect()
}

/// Appends one RFC 4180 record (quoted where needed, CRLF-terminated).
pub fn write_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let f = f.as_ref();
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push_str("\r\n");
}

/// The header line, with the BOM.
pub fn header() -> String {
    let mut s = String::from(BOM);
    write_record(&mut s, &HEADER);
    s
}

/// The CSV text of some orders (no header).
pub fn orders_csv(orders: &[Order]) -> String {
    let mut s = String::new();
    for o in orders {
        for r in rows(o) {
            write_record(&mut s, &r);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests::sample_order;
    use crate::text::Remark;

    #[test]
    fn one_row_per_line_in_yuan_with_quotes_and_no_formulas() {
        let mut o = sample_order(12_900);
        o.remark = Remark::parse("=HYPERLINK(\"http://x\"), 尽快").unwrap();
        let csv = orders_csv(&[o.clone()]);
        assert_eq!(csv.lines().count(), 1);
        assert!(
            csv.contains(",129.00,1,129.00,0.00,129.00,0.00,0.00,"),
            "{csv}"
        );
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"http://x\"\"), 尽快\""),
            "{csv}"
        );
        assert!(csv.ends_with("\r\n"));
        assert!(header().starts_with('\u{feff}'));
        assert_eq!(rows(&o)[0].len(), HEADER.len());
    }
}
