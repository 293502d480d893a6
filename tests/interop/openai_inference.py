#!/usr/bin/env python3
"""Paid inferences through the official `openai` client, signed with eth_account.

    openai_inference.py --base-url http://127.0.0.1:8545/v1 --model NAME --model-id N
                        --provider 0x... --payer-key 0x... --chain-id 1337
                        [--first-nonce 100] [--max-fee WEI] [--expiry UNIX]

For each of a completion, a chat completion and a streamed chat completion it
signs an EIP-712 `InferenceAuthorization` (domain "OpenLedger Inference",
version "1", the chain id, the inference contract 0x…1004 as verifying
contract) with the payer's key, exactly as a wallet's eth_signTypedData_v4
would, sends it as the `payment` extension field, and collects the answer's
`attribution` object (on a streamed answer, from its last chunk). A replayed
authorisation must be refused with HTTP 402 (`openai.APIStatusError`).

Prints a JSON summary on stdout: for each answer its text, finish reason,
usage and attribution. Exits 1 naming the failed check on stderr.
"""

import argparse
import json
import sys
import time

import openai
from eth_account import Account
from eth_account.messages import encode_typed_data

INFERENCE = "0x0000000000000000000000000000000000001004"


def authorization(args, nonce):
    """The signed `payment` object for one request."""
    expiry = args.expiry or int(time.time()) + 3600
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "InferenceAuthorization": [
                {"name": "modelId", "type": "uint64"},
                {"name": "provider", "type": "address"},
                {"name": "maxFee", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "expiry", "type": "uint64"},
            ],
        },
        "primaryType": "InferenceAuthorization",
        "domain": {
            "name": "OpenLedger Inference",
            "version": "1",
            "chainId": args.chain_id,
            "verifyingContract": INFERENCE,
        },
        "message": {
            "modelId": args.model_id,
            "provider": args.provider,
            "maxFee": args.max_fee,
            "nonce": nonce,
            "expiry": expiry,
        },
    }
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key=args.payer_key)
    payer = Account.from_key(args.payer_key).address
    return {
        "payer": payer,
        "maxFee": str(args.max_fee),
        "nonce": nonce,
        "expiry": expiry,
        "signature": "0x" + bytes(signed.signature).hex(),
    }


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def extra(model, field):
    return (model.model_extra or {}).get(field)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True, help="the name /v1/models lists")
    parser.add_argument("--model-id", type=int, required=True, help="the on-chain model id")
    parser.add_argument("--provider", required=True, help="the serving provider's address")
    parser.add_argument("--payer-key", required=True)
    parser.add_argument("--chain-id", type=int, required=True)
    parser.add_argument("--first-nonce", type=int, default=100)
    parser.add_argument("--max-fee", type=int, default=10**18)
    parser.add_argument("--expiry", type=int, default=0)
    parser.add_argument("--prompt", default="Tide tables for the")
    args = parser.parse_args()

    client = openai.OpenAI(base_url=args.base_url, api_key="unused", max_retries=0, timeout=120)
    listed = [model.id for model in client.models.list().data]
    if args.model not in listed:
        fail(f"{args.model} is not among the listed models {listed}")

    answers = {}
    nonce = args.first_nonce
    completion = client.completions.create(
        model=args.model,
        prompt=args.prompt,
        max_tokens=48,
        temperature=0,
        extra_body={"payment": authorization(args, nonce)},
    )
    answers["completion"] = {
        "text": completion.choices[0].text,
        "finish_reason": completion.choices[0].finish_reason,
        "usage": completion.usage.model_dump(),
        "attribution": extra(completion, "attribution"),
    }

    replayed = authorization(args, nonce)
    try:
        client.completions.create(
            model=args.model,
            prompt=args.prompt,
            max_tokens=8,
            extra_body={"payment": replayed},
        )
        fail("a replayed authorisation was accepted")
    except openai.APIStatusError as error:
        if error.status_code != 402:
            fail(f"a replayed authorisation gave HTTP {error.status_code}, not 402")

    nonce += 1
    chat = client.chat.completions.create(
        model=args.model,
        messages=[{"role": "user", "content": args.prompt}],
        max_tokens=40,
        temperature=0,
        extra_body={"payment": authorization(args, nonce)},
    )
    answers["chat"] = {
        "text": chat.choices[0].message.content,
        "finish_reason": chat.choices[0].finish_reason,
        "usage": chat.usage.model_dump(),
        "attribution": extra(chat, "attribution"),
    }

    nonce += 1
    stream = client.chat.completions.create(
        model=args.model,
        messages=[{"role": "user", "content": args.prompt}],
        max_tokens=40,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"payment": authorization(args, nonce)},
    )
    text, finish, usage, attribution = "", None, None, None
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
        usage = chunk.usage.model_dump() if chunk.usage else usage
        attribution = extra(chunk, "attribution") or attribution
    answers["stream"] = {
        "text": text,
        "finish_reason": finish,
        "usage": usage,
        "attribution": attribution,
    }

    for name, answer in answers.items():
        settlement = (answer["attribution"] or {}).get("settlement") or {}
        if not str(settlement.get("transactionHash", "")).startswith("0x"):
            fail(f"the {name} answer names no settlement transaction: {answer}")
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
