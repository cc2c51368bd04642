#!/usr/bin/env python3
"""One chat completion through byok-proxy with the official `openai` package.

The proxy injects your own provider key; this script never sees it. When the proxy cannot be
reached, or has no Cerebras key for this caller (provider_key_missing), it falls back to
CEREBRAS_API_KEY sent straight to Cerebras, and says so.

    pip install openai
    BACKEND_URL=http://localhost:8080 BYOK_TOKEN=byok_... python3 examples/python/chat.py "Say hello"
"""

import os
import sys

import openai


def env(name: str, fallback: str = "") -> str:
    return (os.environ.get(name) or "").strip() or fallback


BACKEND = env("BACKEND_URL", "http://localhost:8080").rstrip("/")
CEREBRAS_URL = env("CEREBRAS_BASE_URL", "https://api.cerebras.ai").rstrip("/")
MODEL = env("MODEL", "llama-3.3-70b")
PROMPT = " ".join(sys.argv[1:]) or "Say hello in one short sentence."


def chat(base_url: str, api_key: str, model: str) -> tuple[str, str]:
    # No retries: an unreachable proxy should fall back at once, not after backoff.
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=api_key, max_retries=0, timeout=120)
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": PROMPT}]
    )
    completion = raw.parse()
    answer = completion.choices[0].message.content or ""
    return answer, raw.headers.get("x-byok-key-source", "unknown")


def message(e: openai.APIStatusError) -> str:
    body = e.body if isinstance(e.body, dict) else {}
    return str(body.get("message") or e.message)


def reason(e: BaseException) -> str:
    while e.__cause__ is not None:
        e = e.__cause__
    return str(e) or type(e).__name__


def fail(text: str) -> None:
    print(f"error: {text}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    try:
        answer, source = chat(BACKEND, env("BYOK_TOKEN", "no-BYOK_TOKEN-set"), f"cerebras/{MODEL}")
        print(f"answer: {answer}\nkey source: {source} (byok-proxy at {BACKEND})")
        return
    except openai.APIConnectionError as e:
        print(
            f"byok-proxy at {BACKEND} is unreachable ({reason(e)}); "
            f"falling back to CEREBRAS_API_KEY at {CEREBRAS_URL}",
            file=sys.stderr,
        )
    except openai.APIStatusError as e:
        if e.code == "provider_key_missing":
            print(
                "byok-proxy has no Cerebras key for this token (provider_key_missing); "
                f"falling back to CEREBRAS_API_KEY at {CEREBRAS_URL}",
                file=sys.stderr,
            )
        elif e.code == "unauthorized":
            fail(
                f"byok-proxy did not accept BYOK_TOKEN: {message(e)}\n"
                "Set BYOK_TOKEN to a JWT (dev mode: npm run -s token -- --sub <you>) "
                "or a byok_ access token from the settings page."
            )
        else:
            fail(message(e))

    key = env("CEREBRAS_API_KEY")
    if not key:
        fail(
            "CEREBRAS_API_KEY is not set, so there is no key to fall back to. Add your Cerebras "
            f"key on the settings page ({BACKEND}/) or set CEREBRAS_API_KEY."
        )
    try:
        answer, _ = chat(CEREBRAS_URL, key, MODEL)
    except openai.APIStatusError as e:
        if e.status_code in (401, 403):
            fail(
                f"Cerebras rejected CEREBRAS_API_KEY (HTTP {e.status_code}): check the key. "
                f"Cerebras said: {message(e)}"
            )
        fail(message(e))
    except openai.APIConnectionError as e:
        fail(f"Cerebras at {CEREBRAS_URL} is unreachable too ({reason(e)})")
    print(
        f"answer: {answer}\n"
        f"key source: CEREBRAS_API_KEY (direct to {CEREBRAS_URL}, not through byok-proxy)"
    )


if __name__ == "__main__":
    main()
