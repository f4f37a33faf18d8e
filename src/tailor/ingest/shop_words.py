"""The bilingual (Chinese, English) vocabulary of the synthetic shop: category tree, brands,
title words, review phrasings and regions. Data only; `tailor.ingest.synthetic` uses it."""

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

# Review phrasings by aspect and polarity, (zh, en) pairs. The last phrasing of every list is held
# out (`HELD_OUT`): the synthetic shop writes a share of its reviews with held-out phrasings only,
# so a sentiment model can be measured on wordings it never saw. "overall" names no aspect.
REVIEWS: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "quality": {
        "positive": (
            ("质量很好", "the quality is great"),
            ("做工精细，用料扎实", "well made with solid materials"),
            ("质感不错，比想象中结实", "feels sturdier than I expected"),
            ("品质没得说，做工很用心", "excellent craftsmanship, clearly built to last"),
        ),
        "negative": (
            ("质量很差", "the quality is poor"),
            ("用了几天就坏了", "it broke after a few days"),
            ("做工粗糙，有线头", "cheap workmanship with loose threads"),
            ("材质很廉价，一摸就知道是次品", "the material feels flimsy and shoddy"),
        ),
        "neutral": (
            ("质量一般，凑合用", "the quality is average"),
            ("品质中规中矩", "build quality is middling"),
        ),
    },
    "size": {
        "positive": (
            ("尺码很标准", "the size is true to fit"),
            ("大小正合适", "the size fits perfectly"),
            ("按平时的尺码买的，刚刚好", "ordered my usual size and it fits well"),
            ("尺寸和描述一致，很合身", "dimensions match the listing exactly"),
        ),
        "negative": (
            ("尺码偏小", "runs too small"),
            ("尺寸不对，太大了", "the size is wrong, far too big"),
            ("大小和图片差很多", "much smaller than in the pictures"),
            ("尺码严重不准，只能退掉", "sizing is way off, had to send it back"),
        ),
        "neutral": (
            ("尺码还行，稍微有点大", "the size is okay, slightly large"),
            ("大小基本合适", "sizing is roughly as expected"),
        ),
    },
    "delivery": {
        "positive": (
            ("物流很快", "delivery was fast"),
            ("第二天就到了", "arrived the next day"),
            ("发货及时，快递给力", "shipped promptly"),
            ("配送速度超快，隔天送达", "the courier was quick, here within a day"),
        ),
        "negative": (
            ("物流太慢了", "delivery was very slow"),
            ("等了两个星期才到", "took two weeks to arrive"),
            ("快递送错了地址", "the parcel went to the wrong address"),
            ("发货拖了好久，催了几次才发", "shipping was delayed again and again"),
        ),
        "neutral": (
            ("物流速度一般", "delivery speed was average"),
            ("快递按时到了", "the parcel arrived on schedule"),
        ),
    },
    "price": {
        "positive": (
            ("性价比很高", "great value for money"),
            ("价格实惠", "the price is very reasonable"),
            ("活动价买的，很划算", "got it on sale, a real bargain"),
            ("这个价钱买到赚到了", "worth every penny at this price"),
        ),
        "negative": (
            ("太贵了，不值这个价", "far too expensive for what it is"),
            ("价格虚高", "overpriced"),
            ("刚买就降价了，很亏", "the price dropped right after I bought it"),
            ("价格比别家贵不少，不划算", "costs much more than elsewhere, poor value"),
        ),
        "neutral": (
            ("价格还算合理", "the price is fair"),
            ("价钱中等", "priced about average"),
        ),
    },
    "packaging": {
        "positive": (
            ("包装很精美", "the packaging is lovely"),
            ("包装严实，没有破损", "well packed, nothing damaged"),
            ("盒子很高档，适合送人", "the box looks premium, great as a gift"),
            ("外包装很用心，层层包裹", "carefully wrapped in several layers"),
        ),
        "negative": (
            ("包装破了", "the packaging was torn"),
            ("盒子压扁了", "the box arrived crushed"),
            ("包装简陋，东西都漏出来了", "poorly packed and it leaked everywhere"),
            ("外盒变形，封口也开了", "the seal was broken and the box dented"),
        ),
        "neutral": (
            ("包装很普通", "plain packaging"),
            ("外包装简单", "simple wrapping, nothing fancy"),
        ),
    },
    "service": {
        "positive": (
            ("客服很耐心", "customer service was very patient"),
            ("卖家回复很快", "the seller replied quickly"),
            ("售后处理得很好", "after-sales support sorted everything out"),
            ("店家服务周到，有问必答", "the shop staff were helpful and friendly"),
        ),
        "negative": (
            ("客服态度很差", "customer service was rude"),
            ("联系卖家一直不回", "the seller never answered my messages"),
            ("退货很麻烦，售后推来推去", "returns were a hassle and support kept stalling"),
            ("问客服等了半天没人理", "waited ages and no one from support replied"),
        ),
        "neutral": (
            ("客服回复还可以", "support replied eventually"),
            ("店家服务一般", "service was so-so"),
        ),
    },
    "overall": {
        "positive": (
            ("非常满意，会回购", "very happy, will buy again"),
            ("超出预期，推荐", "better than expected, recommended"),
            ("总之很喜欢", "love it overall"),
        ),
        "negative": (
            ("很失望，不推荐", "very disappointed, not recommended"),
            ("和描述不符", "not as described"),
            ("后悔买了", "regret buying this"),
        ),
        "neutral": (
            ("一般般吧", "it's okay"),
            ("还行，没什么特别的", "fine, nothing special"),
        ),
    },
}
POLARITIES: tuple[str, ...] = ("negative", "neutral", "positive")

REGIONS: tuple[str, ...] = (
    "华东 East China",
    "华北 North China",
    "华南 South China",
    "西南 Southwest China",
    "海外 Overseas",
)
AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55+")
CHANNELS: tuple[str, ...] = ("web", "app", "mini-program")
