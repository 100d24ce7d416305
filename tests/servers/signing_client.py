"""The client side of the signing tests: an httpx request signed by a `Signer`,
sent, and sent once more when the scheme answers the API's challenge — the
loop the proxy and `auth_for` will run (sign last, retry once)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from astra_auth.signing.message import HeaderUpdate, Request, Response, Signer


@dataclass
class Exchange:
    """One request as the scanner meant it, and every answer it got."""

    responses: list[httpx.Response]
    sent: list[httpx.Request]

    @property
    def final(self) -> httpx.Response:
        return self.responses[-1]


def neutral(request: httpx.Request, *, streamed: bool = False) -> Request:
    """The request as it goes on the wire (httpx's own headers included)."""
    return Request(request.method, str(request.url), tuple(request.headers.multi_items()),
                   None if streamed else request.read())


def apply(request: httpx.Request, update: HeaderUpdate) -> None:
    for name, value in update.items():
        if name in request.headers:
            del request.headers[name]
        if value is not None:
            request.headers[name] = value


def answer(response: httpx.Response) -> Response:
    return Response(response.status_code, tuple(response.headers.multi_items()),
                    response.read())


def send(client: httpx.Client, signer: Signer, method: str, url: str, *,
         streamed: bool = False, **kwargs: object) -> Exchange:
    request = client.build_request(method, url, **kwargs)  # type: ignore[arg-type]
    signed = signer.sign(neutral(request, streamed=streamed))
    apply(request, signed)
    response = client.send(request)
    exchange = Exchange([response], [request])
    retry = signer.challenge(neutral(request, streamed=streamed), answer(response))
    if retry is not None:
        # The same request, as signed, with the challenge's answer on top.
        again = client.build_request(method, url, **kwargs)  # type: ignore[arg-type]
        apply(again, signed)
        apply(again, retry)
        exchange.sent.append(again)
        exchange.responses.append(client.send(again))
    return exchange
