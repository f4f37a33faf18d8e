"""User profiles (用户画像): interests, price band, activity, lifecycle, channels, hours, intents.

book = ProfileBook(store, settings)
book.profile("u1", lang="zh")   # a JSON-ready dict, caught up with the store
"""

from tailor.profiles.book import ProfileBook, build_state, new_state
from tailor.profiles.catalogue import ItemFacts
from tailor.profiles.state import ProfileState

__all__ = ["ItemFacts", "ProfileBook", "ProfileState", "build_state", "new_state"]
