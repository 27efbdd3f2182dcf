"""Token-id embedding input over real HTTP: the ``openai`` SDK and ``langchain-openai``'s ``OpenAIEmbeddings``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import openai
import pytest
from openai import OpenAI

from mockserver.skytells.inference import tokens
from tests.conftest import KEY

TEXTS = ["What is machine learning?", "A photorealistic mountain lake at sunrise, 4K 🙂", "zyxwv\n\nqwerty ñ"]


@pytest.fixture
def client(skytells_url: str) -> OpenAI:
    return OpenAI(api_key=KEY, base_url=skytells_url, max_retries=0)


def vectors(response: object) -> list[list[float]]:
    return [item.embedding for item in response.data]  # type: ignore[attr-defined]


@pytest.mark.parametrize("encoding_format", ["base64", "float"])
def test_the_mock_tokenizers_ids_embed_exactly_like_the_text(client: OpenAI, encoding_format: str) -> None:
    ids = [tokens.encode(text) for text in TEXTS]
    by_text = client.embeddings.create(model="deepbrain-router", input=TEXTS, encoding_format=encoding_format)
    by_ids = client.embeddings.create(model="deepbrain-router", input=ids, encoding_format=encoding_format)
    assert vectors(by_ids) == vectors(by_text)
    single = client.embeddings.create(model="deepbrain-router", input=ids[1], encoding_format=encoding_format)
    assert vectors(single) == vectors(by_text)[1:2]
    assert by_text.usage.prompt_tokens == tokens.count_all(TEXTS)
    assert by_ids.usage.prompt_tokens == by_ids.usage.total_tokens == sum(len(i) for i in ids)
    assert single.usage.prompt_tokens == len(ids[1])


def test_foreign_ids_embed_deterministically_and_absurd_ids_are_a_400(client: OpenAI) -> None:
    cl100k = [[3923, 374, 5780, 6975, 30], [100257, 100276, 3923]]
    first = client.embeddings.create(model="gpt-5", input=cl100k, encoding_format="float")
    assert vectors(first) == vectors(client.embeddings.create(model="gpt-5", input=cl100k, encoding_format="float"))
    assert all(np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5) for v in vectors(first))
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="gpt-5", input=[[1, 2], [3, 2**31]])
    assert caught.value.param == "input[1]" and "input[1][1]" in caught.value.body["message"]
    with pytest.raises(openai.BadRequestError) as negative:
        client.embeddings.create(model="gpt-5", input=[5, -1])
    assert negative.value.param == "input[1]"


# -- langchain-openai ---------------------------------------------------------------------


def litellm_tiktoken_files() -> str:
    """litellm's wheel ships tiktoken's BPE files (cl100k_base among them); tiktoken cannot download here."""
    spec = importlib.util.find_spec("litellm")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    assert folder.is_dir()
    return str(folder)


@pytest.fixture
def langchain_embeddings(skytells_url: str, monkeypatch: pytest.MonkeyPatch):
    from langchain_openai import OpenAIEmbeddings

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", litellm_tiktoken_files())

    def make(**options: object) -> OpenAIEmbeddings:
        return OpenAIEmbeddings(model="deepbrain-router", api_key=KEY, base_url=skytells_url, max_retries=0,
                                **options)
    return make


def test_langchain_sends_cl100k_ids_by_default_and_text_when_told(langchain_embeddings, client: OpenAI) -> None:
    import tiktoken

    cl100k = tiktoken.get_encoding("cl100k_base")  # what OpenAIEmbeddings falls back to for a non-OpenAI model
    by_text = vectors(client.embeddings.create(model="deepbrain-router", input=TEXTS))
    as_text = langchain_embeddings(check_embedding_ctx_length=False).embed_documents(TEXTS)
    assert as_text == by_text
    default = langchain_embeddings().embed_documents(TEXTS)
    foreign_ids = [cl100k.encode_ordinary(text) for text in TEXTS]
    assert default == vectors(client.embeddings.create(model="deepbrain-router", input=foreign_ids))
    assert all(float(np.dot(a, b)) < 0.9 for a, b in zip(default, by_text, strict=True))
    assert langchain_embeddings().embed_query(TEXTS[0]) == default[0]
