"""Turning retrieved facts into an answer's text.

`Composer` is the seam for a generative model: it receives only facts the assistant retrieved
(items, FAQ entries, the shopper's latest order) and must not add others. `TemplateComposer`, the
one implementation, fills fixed Chinese and English sentences, so every word of an answer is
traceable to a citation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from tailor.assistant.intents import Intent
from tailor.store.base import FaqEntry


@dataclass(frozen=True)
class ItemFact:
    item_id: str
    title: str
    price: float | None
    stock: int | None
    category: str | None  # in the answer's language
    personal: bool = False  # ranked up for this shopper's taste


@dataclass(frozen=True)
class LatestOrder:
    item_id: str
    title: str
    date: str  # YYYY-MM-DD


@dataclass(frozen=True)
class Facts:
    """Everything an answer may say, in the language it is said in."""

    question: str
    lang: str
    intent: Intent
    items: list[ItemFact] = field(default_factory=list)
    faq: list[FaqEntry] = field(default_factory=list)
    order: LatestOrder | None = None
    handoff: bool = False


class Composer(ABC):
    """Writes the answer text from facts, in `facts.lang`."""

    @abstractmethod
    def compose(self, facts: Facts) -> str: ...


PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "handoff": "I'm passing your question to a colleague, who will reply here shortly.",
        "handoff_unsure": "I'm not sure I understood, so I'm passing your question to a colleague, "
        "who will reply here shortly.",
        "found": "Here is what I found:",
        "for_you": "Picked for you:",
        "price_stock": "{title}: {price}, {stock}.",
        "price": "{price} yuan",
        "no_price": "price on request",
        "in_stock": "in stock ({stock} left)",
        "sold_out": "sold out at the moment",
        "stock_unknown": "stock not listed",
        "line": "- {title} ({price}){mark}",
        "personal": ", in a category you like",
        "order": "Your latest order is {title}, placed on {date}.",
        "faq": "{answer}",
        "nothing": "I couldn't find that in our shop, so I'm passing your question to a colleague.",
    },
    "zh": {
        "handoff": "我已把你的问题转给人工客服，同事会尽快在这里回复你。",
        "handoff_unsure": "抱歉，我不太确定你的意思，已为你转接人工客服，同事会尽快回复你。",
        "found": "为你找到以下商品：",
        "for_you": "根据你的喜好推荐：",
        "price_stock": "{title}：{price}，{stock}。",
        "price": "{price}元",
        "no_price": "价格请咨询客服",
        "in_stock": "有货（剩余{stock}件）",
        "sold_out": "暂时缺货",
        "stock_unknown": "库存未标明",
        "line": "- {title}（{price}）{mark}",
        "personal": "，你常逛的品类",
        "order": "你最近的订单是{title}，下单日期{date}。",
        "faq": "{answer}",
        "nothing": "抱歉，店里没有找到相关内容，已为你转接人工客服。",
    },
}


class TemplateComposer(Composer):
    def compose(self, facts: Facts) -> str:
        say = PHRASES[facts.lang]
        if facts.handoff:
            return say["handoff" if facts.intent is Intent.handoff else "handoff_unsure"]
        parts: list[str] = []
        if facts.order is not None:
            parts.append(say["order"].format(title=facts.order.title, date=facts.order.date))
        if facts.intent is Intent.product_question and facts.items:
            item = facts.items[0]
            parts.append(
                say["price_stock"].format(
                    title=item.title, price=self._price(item, say), stock=self._stock(item, say)
                )
            )
        elif facts.items:
            personal = facts.intent is Intent.recommendation or any(i.personal for i in facts.items)
            parts.append(say["for_you" if personal else "found"])
            parts.extend(
                say["line"].format(
                    title=item.title,
                    price=self._price(item, say),
                    mark=say["personal"] if item.personal else "",
                )
                for item in facts.items
            )
        parts.extend(say["faq"].format(answer=entry.answer) for entry in facts.faq)
        return "\n".join(parts) if parts else say["nothing"]

    @staticmethod
    def _price(item: ItemFact, say: dict[str, str]) -> str:
        return (
            say["no_price"] if item.price is None else say["price"].format(price=f"{item.price:g}")
        )

    @staticmethod
    def _stock(item: ItemFact, say: dict[str, str]) -> str:
        if item.stock is None:
            return say["stock_unknown"]
        return say["in_stock"].format(stock=item.stock) if item.stock > 0 else say["sold_out"]
