"""The bilingual (Chinese, English) vocabulary of the synthetic shop: category tree, brands,
title words, review sentences and regions. Data only; `tailor.ingest.synthetic` uses it."""

from __future__ import annotations

from typing import NamedTuple


class Leaf(NamedTuple):
    zh: str
    en: str
    base_price: float  # median price in yuan
    repurchase_days: float | None  # consumables are bought again about this often


# top (zh, en) -> sub (zh, en) -> leaves
TAXONOMY: tuple[
    tuple[tuple[str, str], tuple[tuple[tuple[str, str], tuple[Leaf, ...]], ...]], ...
] = (
    (
        ("美妆", "Beauty"),
        (
            (
                ("护肤", "Skin care"),
                (Leaf("面霜", "Face cream", 150, 45), Leaf("精华", "Serum", 300, 60)),
            ),
            (
                ("彩妆", "Makeup"),
                (Leaf("口红", "Lipstick", 200, None), Leaf("粉底", "Foundation", 250, 90)),
            ),
        ),
    ),
    (
        ("数码", "Electronics"),
        (
            (
                ("手机配件", "Phone accessories"),
                (Leaf("充电器", "Charger", 99, None), Leaf("手机壳", "Phone case", 59, None)),
            ),
            (
                ("音频", "Audio"),
                (Leaf("耳机", "Earphones", 399, None), Leaf("音箱", "Speaker", 599, None)),
            ),
        ),
    ),
    (
        ("食品", "Food"),
        (
            (("饮品", "Drinks"), (Leaf("咖啡", "Coffee", 89, 14), Leaf("茶叶", "Tea", 129, 30))),
            (
                ("零食", "Snacks"),
                (Leaf("坚果", "Nuts", 69, 21), Leaf("巧克力", "Chocolate", 59, 14)),
            ),
        ),
    ),
    (
        ("服饰", "Fashion"),
        (
            (
                ("女装", "Womenswear"),
                (Leaf("连衣裙", "Dress", 299, None), Leaf("外套", "Coat", 599, None)),
            ),
            (
                ("鞋靴", "Shoes"),
                (Leaf("运动鞋", "Sneakers", 499, None), Leaf("靴子", "Boots", 699, None)),
            ),
        ),
    ),
    (
        ("家居", "Home"),
        (
            (
                ("厨房", "Kitchen"),
                (Leaf("炒锅", "Wok", 259, None), Leaf("餐具", "Tableware", 129, None)),
            ),
            (
                ("清洁", "Cleaning"),
                (Leaf("洗衣液", "Laundry detergent", 49, 30), Leaf("纸巾", "Tissues", 39, 14)),
            ),
        ),
    ),
    (
        ("母婴", "Baby"),
        (
            (
                ("喂养", "Feeding"),
                (Leaf("奶粉", "Infant formula", 299, 10), Leaf("奶瓶", "Baby bottle", 89, None)),
            ),
            (
                ("护理", "Care"),
                (Leaf("纸尿裤", "Diapers", 149, 7), Leaf("湿巾", "Baby wipes", 29, 10)),
            ),
        ),
    ),
)

BRANDS: tuple[tuple[tuple[str, str], ...], ...] = (  # four per top category, same order as TAXONOMY
    (("花漾", "Floria"), ("雪颜", "Snowface"), ("兰蔻丝", "Lancine"), ("青木", "Aoki")),
    (("声岚", "Sonara"), ("极客", "Geekon"), ("闪电", "Voltix"), ("星河", "Galaxa")),
    (("山谷", "Valley"), ("晨光", "Morning"), ("果园", "Orchard"), ("甜心", "Sweetie")),
    (("风尚", "Vogara"), ("简约", "Simpli"), ("步履", "Stridex"), ("北境", "Northen")),
    (("家趣", "Homly"), ("净澈", "Purex"), ("厨神", "Chefio"), ("暖居", "Cozen")),
    (("贝贝", "Bebe"), ("小熊", "Little Bear"), ("爱婴", "Lovbaby"), ("童趣", "Kidora")),
)

ADJECTIVES: tuple[tuple[str, str], ...] = (
    ("经典", "Classic"),
    ("轻盈", "Light"),
    ("高级", "Premium"),
    ("便携", "Portable"),
    ("天然", "Natural"),
    ("新款", "New"),
    ("加厚", "Thick"),
    ("清爽", "Fresh"),
)

TAGS: tuple[str, ...] = (
    "热卖 bestseller",
    "限量 limited",
    "有机 organic",
    "礼品 gift",
    "促销 sale",
)
NEW_TAG = "新品 new"

REVIEWS: dict[str, tuple[tuple[str, str], ...]] = {  # by sentiment: (zh, en)
    "positive": (
        ("非常好用，会回购", "Works great, will buy again"),
        ("质量很好，物流也快", "Great quality and fast delivery"),
        ("超出预期，推荐", "Better than expected, recommended"),
    ),
    "neutral": (
        ("一般般，还可以", "It's okay, nothing special"),
        ("价格合适，质量普通", "Fair price, average quality"),
    ),
    "negative": (
        ("质量很差，不推荐", "Poor quality, not recommended"),
        ("用了几天就坏了", "Broke after a few days"),
        ("和描述不符，失望", "Not as described, disappointed"),
    ),
}

REGIONS: tuple[str, ...] = (
    "华东 East China",
    "华北 North China",
    "华南 South China",
    "西南 Southwest China",
    "海外 Overseas",
)
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55+")
CHANNELS: tuple[str, ...] = ("web", "app", "mini-program")
