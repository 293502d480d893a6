#!/usr/bin/env python3
"""The official `openai` Python client against a node's OpenAI-compatible API.

    openai_client.py --base-url http://127.0.0.1:8545/v1 --model NAME [--payment-json FILE]

Lists the models, creates a completion, a chat completion and a streamed chat
completion (with `stream_options.include_usage`), and checks that each answer
carries the node's extra `attribution` object (on a streamed answer, on its
last chunk). Then checks that malformed requests raise `openai.BadRequestError`
and an unknown model `openai.NotFoundError`. With --payment-json, the file's
JSON object is sent as the `payment` extension field of every generation.

Prints a JSON summary on stdout (model ids, texts, attribution objects, the
checks that passed) and exits 1 if any check failed, naming it on stderr.
"""

import argparse
import json
import sys

import openai


class Checks:
    def __init__(self):
        self.passed = []
        self.failed = []

    def check(self, name, condition, detail=""):
        (self.passed if condition else self.failed).append(name)
        if not condition:
            print(f"FAILED: {name} {detail}", file=sys.stderr)
        return condition

    def raises(self, name, error_type, call):
        try:
            call()
        except error_type as error:
            status = getattr(error, "status_code", None)
            return self.check(name, True, f"status {status}")
        except Exception as error:  # noqa: BLE001 - any other outcome fails the check
            return self.check(name, False, f"raised {type(error).__name__}: {error}")
        return self.check(name, False, "no error was raised")


def extra(model, field):
    """A top-level field the client's types do not declare (pydantic extras)."""
    return (model.model_extra or {}).get(field)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8545/v1")
    parser.add_argument("--model", required=True)
    parser.add_argument("--payment-json", help="file with the `payment` object to send")
    args = parser.parse_args()

    extra_body = {}
    if args.payment_json:
        with open(args.payment_json, encoding="utf-8") as file:
            extra_body["payment"] = json.load(file)

    # Retries would hide the node's answers to malformed requests.
    client = openai.OpenAI(base_url=args.base_url, api_key="unused", max_retries=0, timeout=120)
    checks = Checks()
    summary = {}

    models = [model.id for model in client.models.list()]
    summary["models"] = models
    checks.check("models lists --model", args.model in models, f"{models}")

    completion = client.completions.create(
        model=args.model, prompt="Hello, ledger", max_tokens=32, temperature=0, extra_body=extra_body
    )
    choice = completion.choices[0]
    summary["completion"] = {
        "text": choice.text,
        "finish_reason": choice.finish_reason,
        "usage": completion.usage.model_dump() if completion.usage else None,
        "attribution": extra(completion, "attribution"),
    }
    checks.check("completion object", completion.object == "text_completion", completion.object)
    checks.check("completion text", bool(choice.text), repr(choice.text))
    checks.check("completion finish_reason", choice.finish_reason in ("stop", "length"))
    checks.check("completion usage", completion.usage is not None and completion.usage.total_tokens
                 == completion.usage.prompt_tokens + completion.usage.completion_tokens)
    checks.check("completion attribution", isinstance(extra(completion, "attribution"), dict))

    messages = [
        {"role": "system", "content": "You answer briefly."},
        {"role": "user", "content": "Who contributed the data?"},
    ]
    chat = client.chat.completions.create(
        model=args.model, messages=messages, max_tokens=32, extra_body=extra_body
    )
    message = chat.choices[0].message
    summary["chat"] = {
        "text": message.content,
        "finish_reason": chat.choices[0].finish_reason,
        "usage": chat.usage.model_dump() if chat.usage else None,
        "attribution": extra(chat, "attribution"),
    }
    checks.check("chat object", chat.object == "chat.completion", chat.object)
    checks.check("chat role", message.role == "assistant", message.role)
    checks.check("chat text", bool(message.content), repr(message.content))
    checks.check("chat attribution", isinstance(extra(chat, "attribution"), dict))

    stream = client.chat.completions.create(
        model=args.model,
        messages=messages,
        max_completion_tokens=32,
        stream=True,
        stream_options={"include_usage": True},
        extra_body=extra_body,
    )
    deltas, roles, finish_reasons, chunks = [], [], [], []
    for chunk in stream:
        chunks.append(chunk)
        for streamed in chunk.choices:
            if streamed.delta.role:
                roles.append(streamed.delta.role)
            if streamed.delta.content:
                deltas.append(streamed.delta.content)
            if streamed.finish_reason:
                finish_reasons.append(streamed.finish_reason)
    streamed_text = "".join(deltas)
    last = chunks[-1] if chunks else None
    summary["stream"] = {
        "text": streamed_text,
        "chunks": len(chunks),
        "finish_reasons": finish_reasons,
        "usage": last.usage.model_dump() if last is not None and last.usage else None,
        "attribution": extra(last, "attribution") if last is not None else None,
    }
    checks.check("stream object", all(c.object == "chat.completion.chunk" for c in chunks))
    checks.check("stream first role", roles == ["assistant"], f"{roles}")
    checks.check("stream text equals the whole answer", streamed_text == message.content,
                 f"{streamed_text!r} != {message.content!r}")
    checks.check("stream one finish_reason", len(finish_reasons) == 1, f"{finish_reasons}")
    checks.check("stream usage on the last chunk", last is not None and last.usage is not None)
    checks.check("stream attribution on the last chunk",
                 last is not None and isinstance(extra(last, "attribution"), dict))

    bad = {
        "bad request: max_tokens 0": lambda: client.completions.create(
            model=args.model, prompt="x", max_tokens=0),
        "bad request: temperature 5": lambda: client.chat.completions.create(
            model=args.model, messages=messages, temperature=5),
        "bad request: n 2": lambda: client.chat.completions.create(
            model=args.model, messages=messages, n=2),
        "bad request: empty messages": lambda: client.chat.completions.create(
            model=args.model, messages=[]),
        "bad request: unknown role": lambda: client.chat.completions.create(
            model=args.model, messages=[{"role": "wizard", "content": "x"}]),
        "bad request: max_tokens 'ten'": lambda: client.completions.create(
            model=args.model, prompt="x", extra_body={"max_tokens": "ten"}),
        "bad request: five stop strings": lambda: client.completions.create(
            model=args.model, prompt="x", stop=["a", "b", "c", "d", "e"]),
    }
    for name, call in bad.items():
        checks.raises(name, openai.BadRequestError, call)
    checks.raises("unknown model", openai.NotFoundError, lambda: client.chat.completions.create(
        model="no-such-model", messages=messages))

    summary["passed"] = checks.passed
    summary["failed"] = checks.failed
    print(json.dumps(summary, indent=2))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
