"""How long `Redactor.redact` takes on 1 MiB of text.

    python benchmarks/redact.py [--rounds N]

The texts are built here from a fixed seed, so that two checkouts see the same
bytes: to compare with another checkout, run this file with that checkout's
`src` first on the path (`PYTHONPATH=/path/to/checkout/src python
benchmarks/redact.py`).  The redactor knows what `test-token --verbose` gives it
(a client secret, a password, a JWT access token and a refresh token).

1. realistic: a JSON API answer with English text, UUIDs, URLs with
   percent-escapes, HTML entities, JSON escapes and base64 thumbnails, the
   secrets in it a few times, whole, in part and encoded;
2. base64: one 1 MiB base64 blob (an image in a data: URL, say);
3. accented: 1 MiB of text in French and Vietnamese (Unicode folding);
4. hostile: the secrets' fragments shuffled, every four characters a near miss.

The CPU time of this process (`time.process_time`: on a machine shared with
other work, wall time measures the others too), the median and the least over
the rounds (the least is the closest to an idle machine), with the number of
masks placed.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import time
import uuid
from urllib.parse import quote

from astra_auth.text.redact import MASK, Redactor

MIB = 1024 * 1024
CLIENT_SECRET = "Zq8vR3xLp2Wm9Tn4-k7Yb1Hc6Fd0Gs5J"
PASSWORD = "correct horse: battery/staple 42"
REFRESH = "rt.8f3b2c1d9e0a4b5c6d7e8f9a0b1c2d3e4f5a6b7c"
WORDS = ("the of and to in is that it was for on are as with his they at be this have from "
         "or one had by word but not what all were we when your can said there use an each "
         "which she do how their if will up other about out many then them these so some her "
         "would make like him into time has look two more write go see number no way could "
         "people my than first water been call who oil its now find long down day did get come "
         "made may part scanner endpoint authorization provider credential").split()


def jwt(rng: random.Random) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"sub": "scanner@example.com", "aud": "https://api.example.com",
              "scope": " ".join(rng.choice(WORDS) for _ in range(60)), "exp": 4102444800,
              "jti": uuid.UUID(int=rng.getrandbits(128)).hex}
    signature = base64.urlsafe_b64encode(rng.randbytes(256)).decode().rstrip("=")
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.{signature}"


def sentence(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count)).capitalize() + "."


def realistic(rng: random.Random, secrets: list[str]) -> str:
    items: list[dict[str, object]] = []
    size = 0
    while size < MIB:
        item: dict[str, object] = {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "name": sentence(rng, 3),
            "description": sentence(rng, rng.randint(10, 40)),
            "html": f"<p>{sentence(rng, 8)} &amp; {sentence(rng, 5)} &lt;b&gt;</p>\n",
            "link": "https://api.example.com/v1/things?q=" + quote(sentence(rng, 4)),
            "created_at": f"2026-01-{rng.randint(1, 28):02d}T10:{rng.randint(0, 59):02d}:00Z",
        }
        if rng.random() < 0.1:
            item["thumbnail"] = base64.b64encode(rng.randbytes(1500)).decode()
        items.append(item)
        size += len(json.dumps(item))
    # The secrets, a few times each, as a provider or an API might echo them.
    for secret in secrets:
        for shown in (secret, secret[3:14], quote(secret, safe=""),
                      base64.b64encode(b"x" + secret.encode()).decode()):
            items[rng.randrange(len(items))]["note"] = f"received {shown}"
    return json.dumps(items, indent=1)[:MIB]


def base64_blob(rng: random.Random, secrets: list[str]) -> str:
    return base64.b64encode(rng.randbytes(MIB * 3 // 4)).decode()


def accented(rng: random.Random, secrets: list[str]) -> str:
    words = ("été déjà où naïve façade cœur Ærø Việt Nam tiếng nói người học sinh "
             "đường phố ﬁn ﬂeur Straße").split()
    out: list[str] = []
    size = 0
    while size < MIB:
        word = rng.choice(words)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:MIB]


def hostile(rng: random.Random, secrets: list[str]) -> str:
    pieces = [s[i:i + 4] for s in secrets for i in range(0, len(s) - 3)]
    out: list[str] = []
    size = 0
    while size < MIB:
        piece = rng.choice(pieces) + rng.choice("!xyz ")
        out.append(piece)
        size += len(piece)
    return "".join(out)[:MIB]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(2026)
    access = jwt(rng)
    secrets = [CLIENT_SECRET, PASSWORD, access, REFRESH]
    redactor = Redactor(*secrets)
    print(f"secrets: {', '.join(str(len(s)) for s in secrets)} characters")
    for title, build in (("1. realistic JSON", realistic), ("2. base64 blob", base64_blob),
                         ("3. accented text", accented), ("4. hostile fragments", hostile)):
        text = build(rng, secrets)
        redactor.redact("warm up")
        times = []
        masks = 0
        for _ in range(args.rounds):
            started = time.process_time()
            shown = redactor.redact(text)
            times.append(time.process_time() - started)
            masks = shown.count(MASK)
        print(f"{title:22} {len(text) / MIB:4.2f} MiB"
              f"  median {statistics.median(times) * 1000:7.1f} ms"
              f"  least {min(times) * 1000:7.1f} ms  ({masks} masks)")


if __name__ == "__main__":
    main()
