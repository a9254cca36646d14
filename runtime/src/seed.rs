//! The demo catalogue: five Wuchang rice products with SKUs, stock and pictures, seeded into an
//! empty shop so the embedded default shows a real shelf. The pictures are compiled into the
//! binary and written through the image storage, like an operator's upload.

use shop_core::audit::Actor;
use shop_core::money::Fen;
use shop_core::ports::Page;
use shop_core::text::{Description, SkuSpec, Title};
use shop_core::usecases::{Backoffice, NewProduct, NewSku};
use shop_core::ShopError;

struct DemoProduct {
    title: &'static str,
    description: &'static str,
    image: (&'static str, &'static [u8]),
    skus: &'static [(&'static str, i64, i64)],
}

const DEMO: &[DemoProduct] = &[
    DemoProduct {
        title: "五常大米 稻花香2号 当季新米",
        description: "黑龙江五常核心产区，稻花香2号品种，一年一季。米粒细长、油润有光泽，蒸煮后清香软糯、回味微甜。\n产地直发，每批附检测报告。",
        image: ("wuchang-daohuaxiang-5kg.png", include_bytes!("../assets/demo/wuchang-daohuaxiang-5kg.png")),
        skus: &[("5kg 真空装", 12_900, 200), ("10kg 袋装", 23_900, 80)],
    },
    DemoProduct {
        title: "五常大米 稻花香 小袋装",
        description: "一人食、两口之家的合适分量。2.5kg 真空小包装，开袋即煮，保鲜更久。",
        image: ("wuchang-daohuaxiang-2_5kg.png", include_bytes!("../assets/demo/wuchang-daohuaxiang-2_5kg.png")),
        skus: &[("2.5kg 真空装", 6_900, 300)],
    },
    DemoProduct {
        title: "有机五常米 真空包装",
        description: "有机认证基地种植，不施化肥农药。低温碾磨，留住米香。",
        image: ("wuchang-youji-5kg.png", include_bytes!("../assets/demo/wuchang-youji-5kg.png")),
        skus: &[("5kg 真空装", 19_800, 60)],
    },
    DemoProduct {
        title: "五常米年货礼盒",
        description: "两袋 2kg 稻花香，红色礼盒包装，送亲友体面实在。",
        image: ("wuchang-gift-box.png", include_bytes!("../assets/demo/wuchang-gift-box.png")),
        skus: &[("2kg×2 礼盒", 16_800, 40), ("2kg×4 礼盒", 31_800, 15)],
    },
    DemoProduct {
        title: "五常糙米 胚芽米",
        description: "保留胚芽与米糠层，膳食纤维丰富。建议浸泡 2 小时后煮饭。",
        image: ("wuchang-brown-rice.png", include_bytes!("../assets/demo/wuchang-brown-rice.png")),
        skus: &[("2kg 袋装", 5_900, 120)],
    },
];

/// Seeds the demo catalogue if the shop has no product at all. Returns how many were created.
pub async fn seed_demo(backoffice: &Backoffice) -> Result<usize, ShopError> {
    let existing = backoffice
        .shop
        .catalogue
        .list_all(&Default::default(), Page::new(1, 1))
        .await?;
    if existing.total > 0 {
        return Ok(0);
    }
    let by = Actor::system("seed-demo");
    for (i, d) in DEMO.iter().enumerate() {
        let skus = d
            .skus
            .iter()
            .enumerate()
            .map(|(n, (spec, price, stock))| {
                Ok(NewSku {
                    spec: SkuSpec::parse(spec)?,
                    price: Fen::price(*price)?,
                    stock: *stock,
                    enabled: true,
                    sort: n as i64,
                })
            })
            .collect::<Result<Vec<_>, shop_core::ValidationError>>()?;
        let p = backoffice
            .create_product(
                &by,
                NewProduct {
                    title: Title::parse(d.title)?,
                    description: Description::parse(d.description)?,
                    on_sale: true,
                    sort: i as i64,
                    skus,
                },
            )
            .await?;
        backoffice
            .add_image(p.id, d.image.0, "image/png", d.image.1.to_vec())
            .await?;
    }
    Ok(DEMO.len())
}
