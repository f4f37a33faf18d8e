"""The customer-service assistant: answers shoppers in Chinese or English from the catalogue and
the shop's FAQ, personalised with their profile, citing what it used, and handing off to a person
when unsure. Answers are composed from retrieved facts (see `compose`), never invented.

    assistant = Assistant(engine)
    answer = assistant.ask("退货运费谁出？", user_id="u1")
    answer.text, answer.citations, answer.handoff
"""

from tailor.assistant.ask import Answer, Assistant, Citation
from tailor.assistant.compose import Composer, Facts, TemplateComposer
from tailor.assistant.faq import FaqImport, import_faq, read_faq
from tailor.assistant.intents import Intent

__all__ = [
    "Answer",
    "Assistant",
    "Citation",
    "Composer",
    "Facts",
    "FaqImport",
    "Intent",
    "TemplateComposer",
    "import_faq",
    "read_faq",
]
