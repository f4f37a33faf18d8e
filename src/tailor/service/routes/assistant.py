"""`POST /v1/assistant/ask`: the customer-service assistant (see `tailor.assistant`)."""

# No `from __future__ import annotations`: the body model is built per settings, and FastAPI
# reads the handler's annotation at definition time.
import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from tailor.assistant import Answer, Assistant
from tailor.service.auth import requires
from tailor.service.routes import engine_of
from tailor.service.schemas import ErrorOut
from tailor.settings import Role, Settings

_CREATING = threading.Lock()


class CitationOut(BaseModel):
    kind: Literal["item", "faq"]
    id: str = Field(description="the item id or FAQ entry id")
    title: str = Field(description="the item's title or the FAQ entry's question")
    score: float = Field(description="how well it matched the question")


class AnswerOut(BaseModel):
    answer: str
    lang: Literal["zh", "en"]
    intent: str = Field(
        description="product_search, product_question, order_status, returns, recommendation "
        "or handoff"
    )
    intent_probability: float
    confidence: float = Field(description="how well the best source matched; low means hand-off")
    handoff: bool = Field(description="a person takes over; the answer says so")
    citations: list[CitationOut]


def assistant_of(request: Request) -> Assistant:
    """The app's assistant, made on first use (it fits its intent classifier: seconds)."""
    state = request.app.state
    with _CREATING:
        if getattr(state, "assistant", None) is None:
            state.assistant = Assistant(engine_of(request))
        return state.assistant


def router(settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/v1/assistant", tags=["assistant"])

    class AskIn(BaseModel):
        model_config = ConfigDict(extra="forbid")

        question: str = Field(
            min_length=1,
            max_length=settings.assistant.max_question_chars,
            pattern=r"\S",
            description="the shopper's question, in Chinese or English",
        )
        user_id: str | None = Field(None, min_length=1, description="personalise for this shopper")
        lang: Literal["zh", "en"] | None = Field(
            None, description="answer in this language (default: the question's)"
        )

    @api.post(
        "/ask",
        response_model=AnswerOut,
        responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
        summary="Answer a shopper from the catalogue and the FAQ, citing both, or hand off",
        dependencies=[requires(Role.read)],
    )
    def ask(body: AskIn, assistant: Annotated[Assistant, Depends(assistant_of)]) -> AnswerOut:
        """Product searches and questions, order and delivery status, returns and refunds, and
        recommendations; below `assistant.handoff_below` confidence a person takes over."""
        return _answer_out(assistant.ask(body.question, body.user_id, body.lang))

    return api


def _answer_out(answer: Answer) -> AnswerOut:
    return AnswerOut(
        answer=answer.text,
        lang=answer.lang,
        intent=answer.intent.value,
        intent_probability=answer.intent_probability,
        confidence=answer.confidence,
        handoff=answer.handoff,
        citations=[CitationOut(**vars(c)) for c in answer.citations],
    )
