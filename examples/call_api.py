"""Call an API with tokens that astra-auth obtains and renews.

    python examples/call_api.py TARGET URL

TARGET is a target set up with `astra-auth configure`; URL is an endpoint of
the API under test.  The token is fetched (or taken from the cache), renewed
before it expires, and renewed once more if the API answers 401.
"""

from __future__ import annotations

import asyncio
import sys

import httpx

import astra_auth


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    target, url = sys.argv[1], sys.argv[2]
    try:
        auth = astra_auth.auth_for(target)
    except astra_auth.AstraError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)

    with httpx.Client(auth=auth) as client:  # synchronous
        print("sync: ", client.get(url).status_code)

    async def call() -> int:
        async with httpx.AsyncClient(auth=auth) as client:  # and asynchronous
            return (await client.get(url)).status_code

    try:
        print("async:", asyncio.run(call()))
    except astra_auth.TokenError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
