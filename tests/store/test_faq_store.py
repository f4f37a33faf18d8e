"""The FAQ table: entries stored, replaced by id and read back in id order, on both backends."""

from tailor.store.base import FaqEntry


def test_faq_entries_are_upserted_by_id_and_read_back(store):
    first = [
        FaqEntry("returns.zh", "怎么退货？", "在“我的订单”中申请。", "zh", "退货", 1),
        FaqEntry("returns.en", "How do I return?", "From My orders.", "en", None, 1),
    ]
    assert store.upsert_faq(first) == 2
    changed = FaqEntry(
        "returns.en", "How do I return an item?", "Press Return.", "en", "Returns", 2
    )
    assert store.upsert_faq([changed]) == 1
    assert store.faq() == [changed, first[0]]


def test_the_last_of_repeated_ids_in_one_batch_wins(store):
    entries = [FaqEntry("a", "q1", "a1", "en"), FaqEntry("a", "q2", "a2", "en")]
    assert store.upsert_faq(entries) == 1
    assert [e.question for e in store.faq()] == ["q2"]
    assert store.upsert_faq([]) == 0
