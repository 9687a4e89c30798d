"""A Stripe-compatible API on 127.0.0.1 for the tests: real HTTP, the form encoding the SDK sends,
Stripe's object shapes (API version 2026-10-28: the billing period on subscription items, an
invoice's subscription under `parent.subscription_details`) and its error format. It implements
only the calls Xinex makes, keeps a clock of its own (`advance`), records the events Stripe would
send, and delivers them signed with Stripe's scheme (`Stripe-Signature: t=...,v1=HMAC-SHA256`).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

API_VERSION = "2026-10-28.endive"
DAY = 86400
INTERVAL_S = {"month": 30 * DAY, "year": 365 * DAY}
TAX_TYPES = {"eu_vat", "gb_vat", "us_ein", "ca_bn", "au_abn", "ch_vat", "no_vat", "nz_gst", "in_gst", "jp_cn",
             "br_cnpj", "mx_rfc"}

# Stripe's documented value formats (https://docs.stripe.com/billing/customer/tax-ids) for the types
# whose form differs from a plain compact number.
STRIPE_FORMATS = {"gb_vat": r"GB\d{9}(\d{3})?", "ch_vat": r"CHE-\d{3}\.\d{3}\.\d{3} (MWST|TVA|IVA|TPV)",
                  "us_ein": r"\d{2}-\d{7}"}


class StripeError(Exception):
    def __init__(self, status: int, code: str, message: str, param: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        self.status, self.code, self.message, self.param, self.kind = status, code, message, param, kind


def _missing(what: str, ident: str) -> StripeError:
    return StripeError(404, "resource_missing", f"No such {what}: '{ident}'", "id")


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket notation (a[b][0][c]=v) into nested dicts; dicts keyed 0..n become lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: listify(v) for k, v in node.items()}
            if node and all(k.isdigit() for k in node):
                return [node[k] for k in sorted(node, key=int)]
        return node

    return listify(root)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class FakeStripe:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.now = int(time.time())
        self.customers: dict[str, dict] = {}
        self.products: dict[str, dict] = {}
        self.prices: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.schedules: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.tax_ids: dict[str, dict] = {}
        self.events: list[dict] = []
        self.idempotent: dict[tuple[str, str], tuple[int, dict]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # method, path, headers of note
        self.fail_next: list[StripeError] = []
        self.invoice_seq = 0
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        self.url = ""

    # --- server -----------------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = Starlette(routes=[Route("/v1/{path:path}", self._handle, methods=["GET", "POST", "DELETE"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "fake Stripe did not start"
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)

    async def _handle(self, request: Request) -> JSONResponse:
        headers = {"Request-Id": "req_" + secrets.token_hex(7), "Stripe-Version": API_VERSION}
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer sk_test_"):
            return JSONResponse({"error": {"type": "invalid_request_error", "code": "api_key_invalid",
                                           "message": "Invalid API Key provided"}}, 401, headers)
        body = (await request.body()).decode()
        params = parse_form(parse_qsl(body if request.method != "GET" else request.url.query, keep_blank_values=True))
        path = request.path_params["path"]
        key = request.headers.get("idempotency-key")
        with self.lock:
            self.requests.append((request.method, f"/v1/{path}", {
                "stripe-version": request.headers.get("stripe-version", ""), "idempotency-key": key or ""}))
            if key and request.method == "POST" and (key, path) in self.idempotent:
                status, cached = self.idempotent[(key, path)]
                return JSONResponse(cached, status, {**headers, "Idempotent-Replayed": "true"})
            try:
                if self.fail_next:
                    raise self.fail_next.pop(0)
                result = self._route(request.method, path, params)
                status = 200
            except StripeError as err:
                status = err.status
                result = {"error": {"type": err.kind, "code": err.code, "message": err.message,
                                    **({"param": err.param} if err.param else {})}}
            if key and request.method == "POST":
                self.idempotent[(key, path)] = (status, result)
        return JSONResponse(result, status, headers)

    def _route(self, method: str, path: str, p: dict[str, Any]) -> dict:
        parts = path.split("/")
        expand = p.get("expand") or []
        match (method, parts):
            case ("POST", ["customers"]):
                return self._create_customer(p)
            case ("GET", ["customers", cid]):
                return self._get(self.customers, "customer", cid)
            case ("POST", ["customers", cid]):
                return self._update_customer(cid, p)
            case ("POST", ["customers", cid, "tax_ids"]):
                return self._create_tax_id(cid, p)
            case ("GET", ["customers", cid, "tax_ids"]):
                self._get(self.customers, "customer", cid)
                return self._list([t for t in self.tax_ids.values() if t["customer"] == cid], f"/v1/customers/{cid}/tax_ids")
            case ("DELETE", ["customers", cid, "tax_ids", tid]):
                tax = self._get(self.tax_ids, "tax_id", tid)
                del self.tax_ids[tid]
                self._emit("customer.tax_id.deleted", tax)
                return {"id": tid, "object": "tax_id", "deleted": True}
            case ("POST", ["products"]):
                return self._create_product(p)
            case ("GET", ["products", pid]):
                return self._get(self.products, "product", pid)
            case ("GET", ["prices"]):
                return self._list_prices(p)
            case ("POST", ["prices"]):
                return self._create_price(p)
            case ("POST", ["prices", pid]):
                price = self._get(self.prices, "price", pid)
                if "active" in p:
                    price["active"] = p["active"] == "true"
                return price
            case ("POST", ["checkout", "sessions"]):
                return self._create_session(p)
            case ("GET", ["checkout", "sessions"]):
                found = [self._public(x) for x in self.sessions.values()
                         if ("customer" not in p or x["customer"] == p["customer"])
                         and ("status" not in p or x["status"] == p["status"])]
                return self._list(found[: int(p.get("limit", 10))], "/v1/checkout/sessions")
            case ("GET", ["checkout", "sessions", sid]):
                return self._public(self._get(self.sessions, "checkout session", sid))
            case ("POST", ["checkout", "sessions", sid, "expire"]):
                return self._expire_session(sid)
            case ("GET", ["subscriptions"]):
                found = [copy.deepcopy(x) for x in self.subscriptions.values()
                         if ("customer" not in p or x["customer"] == p["customer"])
                         and self._status_matches(x["status"], p.get("status"))]
                return self._list(found[: int(p.get("limit", 10))], "/v1/subscriptions")
            case ("POST", ["billing_portal", "sessions"]):
                cid = p.get("customer", "")
                self._get(self.customers, "customer", cid)
                sid = "bps_" + secrets.token_hex(8)
                return {"id": sid, "object": "billing_portal.session", "customer": cid, "livemode": False,
                        "return_url": p.get("return_url"), "created": self.now,
                        "url": f"https://billing.stripe.com/p/session/test_{sid}"}
            case ("GET", ["subscriptions", sid]):
                return self._expand_sub(self._get(self.subscriptions, "subscription", sid), expand)
            case ("POST", ["subscriptions", sid]):
                return self._expand_sub(self._update_sub(sid, p), expand)
            case ("POST", ["subscription_schedules"]):
                return self._create_schedule(p)
            case ("POST", ["subscription_schedules", sched_id]):
                return self._update_schedule(sched_id, p)
            case ("POST", ["subscription_schedules", sched_id, "release"]):
                return self._release_schedule(sched_id)
        raise StripeError(404, "resource_missing", f"Unrecognized request URL ({method}: /v1/{path}).")

    # --- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _get(table: dict[str, dict], what: str, ident: str) -> dict:
        if ident not in table:
            raise _missing(what, ident)
        return table[ident]

    @staticmethod
    def _list(items: list[dict], url: str) -> dict:
        return {"object": "list", "data": items, "has_more": False, "url": url}

    def _emit(self, kind: str, obj: dict, previous: dict | None = None) -> dict:
        event = {"id": "evt_" + secrets.token_hex(12), "object": "event", "api_version": API_VERSION,
                 "created": self.now, "livemode": False, "pending_webhooks": 1, "type": kind,
                 "request": {"id": None, "idempotency_key": None},
                 "data": {"object": copy.deepcopy(obj), **({"previous_attributes": previous} if previous else {})}}
        self.events.append(event)
        return event

    # --- customers and tax ids ------------------------------------------------------------------

    def _create_customer(self, p: dict) -> dict:
        cid = "cus_" + secrets.token_hex(7)
        customer = {"id": cid, "object": "customer", "created": self.now, "email": p.get("email"),
                    "name": p.get("name"), "metadata": p.get("metadata") or {}, "address": None,
                    "currency": None, "livemode": False, "tax_exempt": "none"}
        self.customers[cid] = customer
        self._emit("customer.created", customer)
        return customer

    def _update_customer(self, cid: str, p: dict) -> dict:
        customer = self._get(self.customers, "customer", cid)
        if "address" in p:
            customer["address"] = {"city": None, "country": p["address"].get("country"), "line1": None,
                                   "line2": None, "postal_code": None, "state": None}
        for field in ("email", "name"):
            if field in p:
                customer[field] = p[field]
        self._emit("customer.updated", customer)
        return customer

    def _create_tax_id(self, cid: str, p: dict) -> dict:
        self._get(self.customers, "customer", cid)
        kind, value = p.get("type", ""), p.get("value", "")
        if kind not in TAX_TYPES:
            raise StripeError(400, "parameter_invalid_string", f"Invalid tax id type: {kind}", "type")
        form = STRIPE_FORMATS.get(kind)
        if value == "DE000000000" or not value or (form is not None and not re.fullmatch(form, value)):
            raise StripeError(400, "tax_id_invalid", f"Invalid value for {kind}.", "value")
        tid = "txi_" + secrets.token_hex(7)
        country = value[:2] if kind == "eu_vat" else {"gb_vat": "GB", "us_ein": "US", "ch_vat": "CH"}.get(kind)
        tax = {"id": tid, "object": "tax_id", "country": country, "created": self.now, "customer": cid,
               "livemode": False, "type": kind, "value": value,
               "verification": {"status": "pending", "verified_address": None, "verified_name": None}}
        self.tax_ids[tid] = tax
        self._emit("customer.tax_id.created", tax)
        return tax

    # --- products and prices --------------------------------------------------------------------

    def _create_product(self, p: dict) -> dict:
        pid = p.get("id") or "prod_" + secrets.token_hex(7)
        if pid in self.products:
            raise StripeError(400, "resource_already_exists", "Product already exists.", "id")
        product = {"id": pid, "object": "product", "active": True, "name": p.get("name", ""),
                   "metadata": p.get("metadata") or {}, "created": self.now, "livemode": False}
        self.products[pid] = product
        return product

    def _list_prices(self, p: dict) -> dict:
        keys = set(p.get("lookup_keys") or [])
        found = [x for x in self.prices.values()
                 if (not keys or x["lookup_key"] in keys) and ("active" not in p or x["active"] == (p["active"] == "true"))]
        return self._list(found[: int(p.get("limit", 10))], "/v1/prices")

    def _create_price(self, p: dict) -> dict:
        self._get(self.products, "product", p.get("product", ""))
        key = p.get("lookup_key")
        holder = next((x for x in self.prices.values() if key and x["lookup_key"] == key), None)
        if holder is not None:
            if p.get("transfer_lookup_key") != "true":
                raise StripeError(400, "lookup_key_exists", f"A price with lookup key {key} already exists.",
                                  "lookup_key")
            holder["lookup_key"] = None
        pid = "price_" + secrets.token_hex(8)
        price = {"id": pid, "object": "price", "active": True, "billing_scheme": "per_unit", "created": self.now,
                 "currency": p["currency"], "livemode": False, "lookup_key": key, "metadata": p.get("metadata") or {},
                 "nickname": p.get("nickname"), "product": p["product"],
                 "recurring": {"interval": p["recurring"]["interval"], "interval_count": 1, "usage_type": "licensed"},
                 "type": "recurring", "unit_amount": int(p["unit_amount"]), "tax_behavior": "unspecified"}
        self.prices[pid] = price
        return price

    # --- checkout ---------------------------------------------------------------------------------

    def _create_session(self, p: dict) -> dict:
        if p.get("mode") != "subscription":
            raise StripeError(400, "parameter_invalid_string", "mode must be subscription here", "mode")
        self._get(self.customers, "customer", p.get("customer", ""))
        items = p.get("line_items") or []
        price = self._get(self.prices, "price", items[0]["price"]) if items else None
        if price is None or not price["active"]:
            raise StripeError(400, "resource_missing", "No such price", "line_items[0][price]")
        sid = "cs_test_" + secrets.token_hex(16)
        session = {"id": sid, "object": "checkout.session", "mode": "subscription", "status": "open",
                   "customer": p["customer"], "client_reference_id": p.get("client_reference_id"),
                   "metadata": p.get("metadata") or {}, "currency": price["currency"], "created": self.now,
                   "success_url": p.get("success_url"), "cancel_url": p.get("cancel_url"), "subscription": None,
                   "payment_status": "unpaid", "livemode": False, "url": f"https://checkout.stripe.com/c/pay/{sid}",
                   "_price": price["id"], "_subscription_metadata": (p.get("subscription_data") or {}).get("metadata")}
        self.sessions[sid] = session
        return self._public(session)

    @staticmethod
    def _status_matches(status: str, wanted: str | None) -> bool:
        """GET /v1/subscriptions: no status lists all but canceled ones, `all` lists every one."""
        if wanted is None:
            return status != "canceled"
        return wanted == "all" or status == wanted

    @staticmethod
    def _public(session: dict) -> dict:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    def _expire_session(self, sid: str) -> dict:
        session = self._get(self.sessions, "checkout session", sid)
        if session["status"] != "open":
            raise StripeError(400, "invalid_request", "Only Checkout Sessions with a status in [\"open\"] can be expired.")
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", self._public(session))
        return self._public(session)

    def complete_checkout(self, session_id: str) -> dict:
        """The customer paid: a subscription, its first invoice, and the events Stripe sends."""
        with self.lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise AssertionError(f"checkout session {session_id} is {session['status']}: it cannot be paid")
            price = self.prices[session["_price"]]
            sid = "sub_" + secrets.token_hex(8)
            start = self.now
            sub = {"id": sid, "object": "subscription", "customer": session["customer"], "status": "active",
                   "cancel_at_period_end": False, "cancel_at": None, "canceled_at": None, "ended_at": None,
                   "created": start, "start_date": start, "currency": price["currency"],
                   "metadata": session["_subscription_metadata"] or {}, "schedule": None, "latest_invoice": None,
                   "livemode": False, "collection_method": "charge_automatically",
                   "items": {"object": "list", "has_more": False, "url": f"/v1/subscription_items?subscription={sid}",
                             "data": [self._item(sid, price, start)]}}
            self.subscriptions[sid] = sub
            self._emit("customer.subscription.created", sub)
            invoice = self._invoice(sub, price["unit_amount"], "paid", "subscription_create")
            session.update(status="complete", payment_status="paid", subscription=sid)
            self._emit("checkout.session.completed", {k: v for k, v in session.items() if not k.startswith("_")})
            return {"subscription": sid, "invoice": invoice["id"]}

    def _item(self, sid: str, price: dict, start: int) -> dict:
        return {"id": "si_" + secrets.token_hex(7), "object": "subscription_item", "created": start,
                "price": copy.deepcopy(price), "quantity": 1, "subscription": sid,
                "current_period_start": start, "current_period_end": start + INTERVAL_S[price["recurring"]["interval"]]}

    def _invoice(self, sub: dict, amount: int, status: str, reason: str) -> dict:
        self.invoice_seq += 1
        iid = "in_" + secrets.token_hex(8)
        item = sub["items"]["data"][0]
        invoice = {"id": iid, "object": "invoice", "customer": sub["customer"], "number": f"XNX-{self.invoice_seq:04d}",
                   "status": "open", "amount_due": max(amount, 0), "amount_paid": 0, "amount_remaining": max(amount, 0),
                   "currency": sub["currency"], "created": self.now, "billing_reason": reason,
                   "period_start": item["current_period_start"], "period_end": item["current_period_end"],
                   "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_test/{iid}",
                   "invoice_pdf": f"https://pay.stripe.com/invoice/acct_test/{iid}/pdf", "livemode": False,
                   "parent": {"type": "subscription_details", "quote_details": None,
                              "subscription_details": {"metadata": sub["metadata"], "subscription": sub["id"]}}}
        self.invoices[iid] = invoice
        sub["latest_invoice"] = iid
        self._emit("invoice.finalized", invoice)
        if status == "paid":
            invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
            self._emit("invoice.paid", invoice)
        return invoice

    # --- subscriptions and schedules ----------------------------------------------------------------

    def _expand_sub(self, sub: dict, expand: list[str]) -> dict:
        out = copy.deepcopy(sub)
        if "schedule" in expand and out["schedule"]:
            schedule = copy.deepcopy(self.schedules[out["schedule"]])
            if "schedule.phases.items.price" in expand:
                for phase in schedule["phases"]:
                    for item in phase["items"]:
                        item["price"] = copy.deepcopy(self.prices[item["price"]])
            out["schedule"] = schedule
        if "latest_invoice" in expand and out["latest_invoice"]:
            out["latest_invoice"] = copy.deepcopy(self.invoices[out["latest_invoice"]])
        return out

    def _update_sub(self, sid: str, p: dict) -> dict:
        sub = self._get(self.subscriptions, "subscription", sid)
        if sub["status"] == "canceled":
            raise StripeError(400, "resource_missing", "A canceled subscription can only update its cancellation_details "
                              "and metadata.")
        previous: dict[str, Any] = {}
        if "cancel_at_period_end" in p:
            previous["cancel_at_period_end"] = sub["cancel_at_period_end"]
            sub["cancel_at_period_end"] = p["cancel_at_period_end"] == "true"
            sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"] if sub["cancel_at_period_end"] else None
        if p.get("items"):
            if sub["schedule"]:
                raise StripeError(400, "subscription_schedule_managed", "The subscription is managed by the "
                                  "subscription schedule and cannot be updated directly.")
            item = sub["items"]["data"][0]
            new = self._get(self.prices, "price", p["items"][0]["price"])
            old = item["price"]
            previous["items"] = copy.deepcopy(sub["items"])
            used = (self.now - item["current_period_start"]) / (item["current_period_end"] - item["current_period_start"])
            credit = round(old["unit_amount"] * (1 - used))
            sub["items"]["data"][0] = {**self._item(sid, new, self.now), "id": item["id"]}
            if p.get("proration_behavior") == "always_invoice":
                self._emit("customer.subscription.updated", sub, previous)
                self._invoice(sub, new["unit_amount"] - credit, "paid", "subscription_update")
                return sub
        self._emit("customer.subscription.updated", sub, previous)
        return sub

    def _create_schedule(self, p: dict) -> dict:
        sub = self._get(self.subscriptions, "subscription", p.get("from_subscription", ""))
        if sub["schedule"]:
            raise StripeError(400, "resource_already_exists", "The subscription already has a schedule.",
                              "from_subscription")
        item = sub["items"]["data"][0]
        sched_id = "sub_sched_" + secrets.token_hex(8)
        schedule = {"id": sched_id, "object": "subscription_schedule", "customer": sub["customer"],
                    "subscription": sub["id"], "status": "active", "end_behavior": "release", "created": self.now,
                    "released_subscription": None, "livemode": False,
                    "current_phase": {"start_date": item["current_period_start"], "end_date": item["current_period_end"]},
                    "phases": [{"start_date": item["current_period_start"], "end_date": item["current_period_end"],
                                "items": [{"price": item["price"]["id"], "quantity": 1}],
                                "proration_behavior": "create_prorations"}]}
        self.schedules[sched_id] = schedule
        sub["schedule"] = sched_id
        self._emit("subscription_schedule.created", schedule)
        self._emit("customer.subscription.updated", sub, {"schedule": None})
        return schedule

    def _update_schedule(self, sched_id: str, p: dict) -> dict:
        schedule = self._get(self.schedules, "subscription schedule", sched_id)
        if schedule["status"] != "active":
            raise StripeError(400, "schedule_not_active", "You cannot update a released subscription schedule.")
        phases = p.get("phases") or []
        if not phases or int(phases[0].get("start_date", 0)) != schedule["phases"][0]["start_date"]:
            raise StripeError(400, "parameter_invalid_integer", "You can not modify the start date of the current phase.",
                              "phases[0][start_date]")
        built, start = [], int(phases[0]["start_date"])
        for phase in phases:
            for item in phase["items"]:
                self._get(self.prices, "price", item["price"])
            price = self.prices[phase["items"][0]["price"]]
            if "end_date" in phase:
                end = int(phase["end_date"])
            elif "duration" in phase:
                end = start + INTERVAL_S[phase["duration"]["interval"]] * int(phase["duration"].get("interval_count", 1))
            else:
                end = start + INTERVAL_S[price["recurring"]["interval"]]
            built.append({"start_date": start, "end_date": end, "proration_behavior": phase.get("proration_behavior",
                                                                                                 "create_prorations"),
                          "items": [{"price": it["price"], "quantity": int(it.get("quantity", 1))} for it in phase["items"]]})
            start = end
        schedule["phases"] = built
        schedule["end_behavior"] = p.get("end_behavior", schedule["end_behavior"])
        self._emit("subscription_schedule.updated", schedule)
        return schedule

    def _release_schedule(self, sched_id: str) -> dict:
        schedule = self._get(self.schedules, "subscription schedule", sched_id)
        if schedule["status"] != "active":
            raise StripeError(400, "schedule_not_active", "You cannot release a released subscription schedule.")
        schedule.update(status="released", released_subscription=schedule["subscription"], current_phase=None)
        sub = self.subscriptions[schedule["subscription"]]
        sub["schedule"] = None
        self._emit("subscription_schedule.released", schedule)
        self._emit("customer.subscription.updated", sub, {"schedule": sched_id})
        return schedule

    # --- time and payments (what happens at Stripe without us asking) -------------------------------

    def advance(self, seconds: int) -> None:
        with self.lock:
            self.now += seconds

    def renew(self, sid: str) -> None:
        """The period ends: cancel (cancel_at_period_end), move to the schedule's next phase, or renew."""
        with self.lock:
            sub = self.subscriptions[sid]
            item = sub["items"]["data"][0]
            self.now = max(self.now, item["current_period_end"])
            if sub["cancel_at_period_end"]:
                sub.update(status="canceled", canceled_at=self.now, ended_at=self.now)
                self._emit("customer.subscription.deleted", sub)
                return
            price = self.prices[item["price"]["id"]]
            if sub["schedule"]:
                schedule = self.schedules[sub["schedule"]]
                nxt = next((ph for ph in schedule["phases"] if ph["start_date"] >= item["current_period_end"]), None)
                if nxt is not None:
                    price = self.prices[nxt["items"][0]["price"]]
                    if nxt is schedule["phases"][-1] and schedule["end_behavior"] == "release":
                        schedule.update(status="released", released_subscription=sid, current_phase=None)
                        sub["schedule"] = None
            previous = {"items": copy.deepcopy(sub["items"])}
            sub["items"]["data"][0] = {**self._item(sid, price, item["current_period_end"]), "id": item["id"]}
            self._emit("customer.subscription.updated", sub, previous)
            self._invoice(sub, price["unit_amount"], "paid", "subscription_cycle")

    def fail_payment(self, sid: str) -> None:
        """The renewal charge fails: the invoice stays open and the subscription goes past_due."""
        with self.lock:
            sub = self.subscriptions[sid]
            item = sub["items"]["data"][0]
            self.now = max(self.now, item["current_period_end"])
            price = self.prices[item["price"]["id"]]
            previous = {"items": copy.deepcopy(sub["items"]), "status": sub["status"]}
            sub["items"]["data"][0] = {**self._item(sid, price, item["current_period_end"]), "id": item["id"]}
            invoice = self._invoice(sub, price["unit_amount"], "open", "subscription_cycle")
            self._emit("invoice.payment_failed", invoice)
            sub["status"] = "past_due"
            self._emit("customer.subscription.updated", sub, previous)

    def pay(self, sid: str) -> None:
        """The customer fixed the card: the open invoice is paid, the subscription active again."""
        with self.lock:
            sub = self.subscriptions[sid]
            invoice = self.invoices[sub["latest_invoice"]]
            invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
            self._emit("invoice.paid", invoice)
            previous = {"status": sub["status"]}
            sub["status"] = "active"
            self._emit("customer.subscription.updated", sub, previous)

    def portal_update(self, sid: str, **params: Any) -> None:
        """What the customer portal does for the customer (a plan change, cancel, renew)."""
        with self.lock:
            encoded: dict[str, Any] = {}
            for key, value in params.items():
                encoded[key] = ("true" if value else "false") if isinstance(value, bool) else value
            self._update_sub(sid, encoded)

    def price_by_key(self, key: str) -> dict:
        return next(p for p in self.prices.values() if p["lookup_key"] == key)

    # --- webhooks ---------------------------------------------------------------------------------

    def take_events(self) -> list[dict]:
        with self.lock:
            events, self.events = self.events, []
        return events

    @staticmethod
    def payload(event: dict) -> bytes:
        return json.dumps(event, separators=(",", ":")).encode()

    async def deliver(self, client: Any, events: list[dict], secret: str, *, timestamp: int | None = None,
                      path: str = "/api/v1/billing/webhook") -> list[Any]:
        answers = []
        for event in events:
            body = self.payload(event)
            answers.append(await client.post(path, content=body, headers={
                "Stripe-Signature": sign(body, secret, timestamp), "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}))
        return answers
