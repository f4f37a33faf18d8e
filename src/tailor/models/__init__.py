"""The model registry: a name for each recommender, imported only when asked for."""

from __future__ import annotations

from importlib import import_module

from tailor.errors import ConfigError
from tailor.models.base import Params, Recommender, top_k

_REGISTRY: dict[str, str] = {
    "popular": "tailor.models.popular:Popular",
    "trending": "tailor.models.popular:Trending",
    "itemknn": "tailor.models.itemknn:ItemKNN",
    "cobought": "tailor.models.cobought:CoBought",
    "als": "tailor.models.als:ALS",
    "ease": "tailor.models.ease:EASE",
    "content": "tailor.models.content:ContentModel",
    "transformer": "tailor.models.transformer:SequenceTransformer",
}


def model_names() -> list[str]:
    return list(_REGISTRY)


def model_class(name: str) -> type[Recommender]:
    """The class registered under `name`; ConfigError names the known models otherwise."""
    try:
        module_name, class_name = _REGISTRY[name].split(":")
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; known models: {', '.join(_REGISTRY)}") from None
    return getattr(import_module(module_name), class_name)


__all__ = ["Params", "Recommender", "model_class", "model_names", "top_k"]
