"""The Skytells Inference API: OpenAI-compatible chat completions, responses and embeddings.

Plain modules, one concept each, shared by the three routes:

* :mod:`tokens`     -- the one tokenizer; every usage figure is counted with it;
* :mod:`text`       -- seeded reply text (a pure function of seed, model and conversation);
* :mod:`safety`     -- Skytells content-filter fields from the configured trigger terms;
* :mod:`generation` -- text + stop/limit + safety + token counts, as one :class:`Generation`;
* :mod:`billing`    -- per-token prices from the catalog, debited from the key's credits;
* :mod:`params`     -- request validation helpers (400 with ``param``);
* :mod:`pacing`     -- time to first token / tokens per second on the mock clock;
* :mod:`streaming`  -- SSE framing;
* :mod:`chat`, :mod:`responses`, :mod:`embeddings` -- the three sub-APIs;
* :mod:`routes`     -- thin HTTP handlers.
"""
