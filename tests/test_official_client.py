"""BigCommerce's official Python client (``bigcommerce`` on PyPI) works unchanged against
``stagesync emulator serve``: only its base URL is pointed at the emulator (the client's own
``BC_API_ENDPOINT`` setting, served over HTTPS with ``--tls-cert``/``--tls-key`` because the client
only speaks HTTPS, and ``REQUESTS_CA_BUNDLE`` trusting that certificate).

It drives customer groups, orders with products and shipping addresses, shipping zones and
methods, ``.count()``, ``iterall()`` to the 204 that ends a v2 list, create, update, delete, and
the client's rate-limit handling against ``--quota``."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import commerce
from tests.conftest import STAGESYNC, free_port

pytestmark = pytest.mark.serve

bigcommerce = pytest.importorskip("bigcommerce", reason="the test extra installs bigcommerce")
from bigcommerce.api import BigcommerceApi  # noqa: E402
from bigcommerce.exception import ClientRequestException, RateLimitingException  # noqa: E402

STORE, TOKEN = "abc", "abc-token"
ADDRESS = commerce.HOME_ADDRESS


def _certificate(folder: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command makes this test's certificate; it is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return cert, key


def _serve(folder: Path, *flags: str) -> Iterator[tuple[str, Path]]:
    """``stagesync emulator serve`` over HTTPS on a free port; yields its host:port and the
    certificate to trust."""
    cert, key = _certificate(folder)
    trust = ssl.create_default_context(cafile=str(cert))
    port = free_port()
    server = subprocess.Popen(
        [*STAGESYNC, "emulator", "serve", "--port", str(port), "--store", f"{STORE}={TOKEN}"]
        + ["--tls-cert", str(cert), "--tls-key", str(key), *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(
                    f"https://127.0.0.1:{port}/__emulator/health", verify=trust, timeout=1
                )
                if health.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"emulator serve did not start: {server.communicate()[1]}")
            time.sleep(0.05)
        yield f"127.0.0.1:{port}", cert
    finally:
        server.terminate()
        try:
            server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BigcommerceApi]:
    for endpoint, cert in _serve(tmp_path):
        monkeypatch.setenv("BC_API_ENDPOINT", endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        yield BigcommerceApi(client_id="stagesync-test", store_hash=STORE, access_token=TOKEN)


def _empty(answer: Any) -> bool:
    """What the client makes of a 204 (an empty list): an object holding only its connection."""
    return isinstance(answer, dict) and set(answer) <= {"_connection"}


def test_customer_groups_create_count_iterall_update_delete(client: BigcommerceApi) -> None:
    made = [client.CustomerGroups.create(name=f"Group {n}") for n in range(3)]
    assert made[0].name == "Group 0" and made[0].id
    assert client.CustomerGroups.count() == 3
    assert len(client.CustomerGroups.all(limit=2)) == 2
    # iterall reads pages of 250 until the 204 past the end (here: page 2).
    assert [g.name for g in client.CustomerGroups.iterall()] == [g.name for g in made]
    updated = made[0].update(name="Trade")
    assert updated.name == "Trade"
    assert client.CustomerGroups.get(made[0].id).name == "Trade"
    made[1].delete()
    assert client.CustomerGroups.count() == 2
    with pytest.raises(ClientRequestException) as refused:
        client.CustomerGroups.get(made[1].id)
    assert refused.value.response.status_code == 404


def test_orders_with_products_and_shipping_addresses(client: BigcommerceApi) -> None:
    order = client.Orders.create(
        billing_address=ADDRESS,
        shipping_addresses=[{**ADDRESS, "shipping_method": "Flat rate", "cost_ex_tax": 7}],
        products=[
            {"name": "Lamp", "quantity": 2, "price_ex_tax": 10, "price_inc_tax": "12.5"},
            {"name": "Rope", "quantity": 1, "price_ex_tax": "4.00", "price_inc_tax": 4},
        ],
    )
    # v2 money is a string with four decimals; v2 dates are RFC 2822.
    assert order.subtotal_ex_tax == "24.0000"
    assert order.subtotal_inc_tax == "29.0000"
    assert order.total_inc_tax == "36.0000"
    assert parsedate_to_datetime(order.date_created).tzinfo is not None
    assert order.status == "Pending"

    lines = order.products()
    assert [(line.name, line.price_inc_tax) for line in lines] == [
        ("Lamp", "12.5000"),
        ("Rope", "4.0000"),
    ]
    assert client.OrderProducts.get(order.id, lines[0].id).name == "Lamp"
    [address] = order.shipping_addresses()
    assert address.cost_ex_tax == "7.0000"
    assert client.OrderShippingAddresses.get(order.id, address.id).street_1 == "1 Home Lane"
    assert _empty(order.coupons())  # 204: none
    assert _empty(order.messages())
    assert [t.line_amount for t in order.taxes()] == ["5.0000"]

    shipment = client.OrderShipments.create(
        order.id,
        order_address_id=address.id,
        tracking_number="1Z999",
        items=[{"order_product_id": lines[0].id, "quantity": 2}],
    )
    assert client.OrderShipments.count(order.id) == 1
    assert client.Orders.get(order.id).status == "Partially Shipped"
    assert parsedate_to_datetime(shipment.date_created).tzinfo is not None

    updated = client.Orders.get(order.id).update(
        status_id=11, products=[{"id": lines[1].id, "quantity": 3}]
    )
    assert updated.status == "Awaiting Fulfillment"
    assert updated.subtotal_inc_tax == "37.0000"
    assert [s.name for s in client.OrderStatuses.all()][:2] == ["Incomplete", "Pending"]

    assert client.Orders.count() == 1
    assert [o.id for o in client.Orders.iterall()] == [order.id]
    assert _empty(client.Orders.all(min_total=100))  # 204: no order costs that much
    client.Orders.get(order.id).delete()  # archives
    assert client.Orders.count() == 0
    assert [o.id for o in client.Orders.iterall(is_deleted="true", page=1)] == [order.id]


def test_shipping_zones_and_methods_through_the_connection(client: BigcommerceApi) -> None:
    connection = client.connection
    zone: Any = connection.create(
        "shipping/zones",
        {
            "name": "Domestic",
            "type": "country",
            "locations": [{"country_iso2": "US"}],
            "free_shipping": {"enabled": True, "minimum_sub_total": 100},
        },
    )
    assert zone["free_shipping"]["minimum_sub_total"] == "100.0000"
    method = connection.create(
        f"shipping/zones/{zone['id']}/methods",
        {"name": "Flat", "type": "perorder", "settings": {"rate": 7}},
    )
    assert [m["name"] for m in connection.get(f"shipping/zones/{zone['id']}/methods")] == ["Flat"]
    changed = connection.update(
        f"shipping/zones/{zone['id']}/methods",
        method["id"],
        {"handling_fees": {"fixed_surcharge": 2}},
    )
    assert changed["handling_fees"]["fixed_surcharge"] == "2.0000"
    connection.update("shipping/zones", zone["id"], {"name": "Home"})
    assert [z["name"] for z in connection.get("shipping/zones")] == ["Home"]
    connection.delete("shipping/zones", zone["id"])
    assert connection.get("shipping/zones") == {}  # 204: no zones left (a plain dict here)


def test_rate_limit_handling_against_the_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for endpoint, cert in _serve(tmp_path, "--quota", "4", "--window-ms", "1000"):
        monkeypatch.setenv("BC_API_ENDPOINT", endpoint)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        plain = BigcommerceApi(client_id="stagesync-test", store_hash=STORE, access_token=TOKEN)
        with pytest.raises(RateLimitingException) as limited:
            for _ in range(5):
                plain.CustomerGroups.all()
        assert limited.value.response.headers["X-Retry-After"] == "1"
        time.sleep(1.1)

        waits: list[dict[str, bool]] = []
        managed = BigcommerceApi(
            client_id="stagesync-test",
            store_hash=STORE,
            access_token=TOKEN,
            rate_limiting_management={
                "min_requests_remaining": 1,
                "wait": True,
                "callback_function": waits.append,
                "callback_args": {"waited": True},
            },
        )
        for _ in range(7):  # more than the quota of one window, never refused
            managed.CustomerGroups.all()
        assert len(waits) >= 1
        assert managed.connection.rate_limit["requests_quota"] == 4
