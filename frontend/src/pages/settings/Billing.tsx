import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Navigate, useLocation, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import type { Ok } from "../../api/endpoints";
import { formatDateTime } from "../../lib/format";
import { direction, formatMoney, yearlySaving } from "../../lib/money";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Empty, ErrorAlert, Loading, SelectField, StatusBadge } from "../../ui";
import { Pager } from "../../ui/Pager";

type Subscription = Ok<"/api/v1/billing/subscription", "get">;
type Interval = "month" | "year";
type Currency = "usd" | "eur" | "gbp";
type PaidTier = "pro" | "team" | "enterprise";
const SUB_KEY = ["billing", "subscription"];

/** Stripe sends people back to /billing (Checkout's success/cancel URLs, the portal's return URL). */
export function BillingReturn() {
  const { search } = useLocation();
  return <Navigate to={`/settings/billing${search}`} replace />;
}

export function Billing() {
  useTitle("Billing");
  const qc = useQueryClient();
  const [params] = useSearchParams();
  const checkout = params.get("checkout");
  const [waiting, setWaiting] = useState(checkout === "success");
  const sub = useQuery({
    queryKey: SUB_KEY,
    queryFn: async () => unwrap(await api.GET("/api/v1/billing/subscription")),
    // Back from Checkout, Stripe's webhook may land a moment later: look again until the plan shows.
    refetchInterval: (q) => (waiting && (!q.state.data || q.state.data.status === "none") ? 1500 : false),
  });
  useEffect(() => {
    if (!waiting) return;
    const stop = window.setTimeout(() => setWaiting(false), 60_000);
    return () => window.clearTimeout(stop);
  }, [waiting]);
  useEffect(() => {
    if (waiting && sub.data && sub.data.status !== "none") {
      setWaiting(false);
      void qc.invalidateQueries({ queryKey: ["billing", "invoices"] });
    }
  }, [waiting, sub.data, qc]);
  if (sub.isPending) return <Loading />;
  if (sub.isError) return <ErrorAlert error={sub.error} />;
  const s = sub.data;
  return (
    <div className="stack">
      {checkout === "success" && (waiting ? <Alert kind="info">Payment received: waiting for Stripe to confirm the subscription…</Alert>
        : s.status !== "none" && <Alert kind="ok">Thank you: your team is on the {s.tier} plan.</Alert>)}
      {checkout === "canceled" && <Alert kind="info">Checkout was canceled; nothing was charged.</Alert>}
      <CurrentPlan sub={s} />
      {s.billing_configured ? (
        <>
          <PlanPicker sub={s} />
          <Invoices />
        </>
      ) : (
        <Alert kind="info">Billing is not set up on this server (no Stripe key): every team has the {s.tier} plan and its limits.</Alert>
      )}
    </div>
  );
}

function CurrentPlan({ sub }: { sub: Subscription }) {
  const qc = useQueryClient();
  const portal = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/billing/portal-session")),
    onSuccess: ({ url }) => window.location.assign(url),
  });
  const undo = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/billing/downgrade")),
    onSuccess: (s) => qc.setQueryData(SUB_KEY, s),
  });
  const switchTo: Interval = sub.interval === "year" ? "month" : "year";
  const interval = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/billing/interval", { body: { interval: switchTo } })),
    onSuccess: (r) => qc.setQueryData(SUB_KEY, r.subscription),
  });
  const subscribed = sub.status !== "none" && sub.status !== "canceled";
  return (
    <Card title="Current plan" actions={sub.billing_configured && subscribed && (
      <Button busy={portal.isPending} onClick={() => portal.mutate()}>Payment details and receipts</Button>)}>
      <ErrorAlert error={portal.error || undo.error || interval.error} />
      {sub.past_due && (
        <Alert>Payment failed{sub.past_due.since ? ` on ${formatDateTime(sub.past_due.since)}` : ""}. Update your card
          {sub.past_due.grace_until ? ` before ${formatDateTime(sub.past_due.grace_until)}` : ""} to keep the plan.</Alert>
      )}
      <dl className="props">
        <dt>Plan</dt><dd><strong style={{ textTransform: "capitalize" }} data-testid="current-tier">{sub.tier}</strong></dd>
        <dt>Subscription</dt><dd><StatusBadge status={sub.status} /></dd>
        {sub.interval && <><dt>Billed</dt><dd>{sub.interval === "year" ? "yearly" : "monthly"}{sub.currency ? ` in ${sub.currency.toUpperCase()}` : ""}</dd></>}
        {sub.current_period_end && <><dt>{sub.cancel_at_period_end ? "Ends" : "Renews"}</dt><dd>{formatDateTime(sub.current_period_end)}</dd></>}
      </dl>
      {sub.scheduled_downgrade && (
        <Alert kind="info">
          The plan changes to <strong>{sub.scheduled_downgrade.tier}</strong>{sub.scheduled_downgrade.at ? ` on ${formatDateTime(sub.scheduled_downgrade.at)}` : " at the end of the period"}.
          {" "}<Button size="sm" busy={undo.isPending} onClick={() => undo.mutate()}>Keep my plan</Button>
        </Alert>
      )}
      {interval.data && (
        <Alert kind="ok">Now billed {interval.data.subscription.interval === "year" ? "yearly" : "monthly"}
          {interval.data.proration.amount ? `; prorated ${formatMoney(interval.data.proration.amount, interval.data.proration.currency)}` : ""}.</Alert>
      )}
      {sub.billing_configured && subscribed && sub.tier !== "free" && !sub.scheduled_downgrade && (
        <p><Button size="sm" busy={interval.isPending} onClick={() => interval.mutate()}>Switch to {switchTo === "year" ? "yearly" : "monthly"} billing</Button></p>
      )}
      <h3 style={{ marginTop: "1rem" }}>Usage</h3>
      <div className="grid-stats">
        {Object.entries(sub.usage).map(([what, u]) => {
          const item = u as { used: number; limit: number | null };
          return (
            <div key={what} className="stat">
              <div className="num">{item.used}{item.limit !== null && item.limit !== undefined && item.limit >= 0 ? <span className="muted" style={{ fontSize: "1rem" }}> / {item.limit}</span> : null}</div>
              <div className="label">{what.replace(/_/g, " ")}</div>
            </div>
          );
        })}
      </div>
    </Card>
  );
}

function PlanPicker({ sub }: { sub: Subscription }) {
  const qc = useQueryClient();
  const prices = useQuery({
    queryKey: ["billing", "currencies"],
    queryFn: async () => unwrap(await api.GET("/api/v1/billing/currencies")),
    staleTime: 300_000,
  });
  const [interval, setInterval] = useState<Interval>((sub.interval as Interval) || "month");
  const [currency, setCurrency] = useState<Currency>((sub.currency as Currency) || "usd");
  const checkout = useMutation({
    mutationFn: async (tier: PaidTier) => unwrap(await api.POST("/api/v1/billing/create-checkout-session", { body: { tier, interval, currency } })),
    // Stripe Checkout is Stripe's page: the browser goes there, and Stripe sends it back to /billing.
    onSuccess: ({ url }) => window.location.assign(url),
  });
  const downgrade = useMutation({
    mutationFn: async (tier: "free" | "pro" | "team") => unwrap(await api.POST("/api/v1/billing/downgrade", { body: { target_tier: tier } })),
    onSuccess: (s) => qc.setQueryData(SUB_KEY, s),
  });
  const subscribed = sub.status !== "none" && sub.status !== "canceled";
  const table = prices.data?.currencies.find((c) => c.currency === currency);
  const choose = (tier: string) => {
    const dir = direction(sub.tier, tier);
    if (dir > 0 && !subscribed) checkout.mutate(tier as PaidTier);
    else if (dir < 0 && window.confirm(`Move to the ${tier} plan at the end of this billing period? Its limits apply from then.`)) {
      downgrade.mutate(tier as "free" | "pro" | "team");
    }
  };
  const tiers = [...new Set(["free", ...(table?.tiers.map((t) => t.tier) ?? [])])];
  return (
    <Card title="Plans" actions={<>
      <fieldset className="row segmented" style={{ border: 0, padding: 0, margin: 0 }}>
        <legend className="sr-only">Billing interval</legend>
        {(["month", "year"] as Interval[]).map((i) => (
          <label key={i} className="check" style={{ marginBottom: 0 }}>
            <input type="radio" name="interval" value={i} checked={interval === i} onChange={() => setInterval(i)} />{i === "month" ? "Monthly" : "Yearly"}
          </label>
        ))}
      </fieldset>
      <SelectField label="Currency" value={currency} onChange={(e) => setCurrency(e.target.value as Currency)}>
        {(prices.data?.currencies ?? [{ currency: "usd" }]).map((c) => <option key={c.currency} value={c.currency}>{c.currency.toUpperCase()}</option>)}
      </SelectField>
    </>}>
      {prices.isPending && <Loading />}
      <ErrorAlert error={prices.error || checkout.error || downgrade.error} />
      {subscribed && <p className="muted">To move up a plan or change the card, use “Payment details and receipts” (Stripe's portal). Moving down takes effect at the end of the period.</p>}
      <div className="grid-stats" style={{ gridTemplateColumns: "repeat(auto-fit, minmax(190px, 1fr))" }}>
        {tiers.map((tier) => {
          const price = table?.tiers.find((t) => t.tier === tier);
          const dir = direction(sub.tier, tier);
          const amount = price ? (interval === "year" ? price.year : price.month) : 0;
          return (
            <section key={tier} className="stat" aria-label={`${tier} plan`} style={dir === 0 ? { borderColor: "var(--accent)", borderWidth: 2 } : undefined}>
              <h3 style={{ textTransform: "capitalize" }}>{tier}</h3>
              <div className="num">{price ? formatMoney(amount, currency) : formatMoney(0, currency)}
                <span className="muted" style={{ fontSize: ".9rem" }}> / {interval === "year" ? "year" : "month"}</span></div>
              {price && interval === "year" && yearlySaving(price.month, price.year) > 0 && <p className="muted">save {yearlySaving(price.month, price.year)}%</p>}
              {dir === 0 ? <p><strong>Your plan</strong></p> : (
                <Button variant={dir > 0 ? "primary" : "default"} busy={checkout.isPending && checkout.variables === tier}
                  disabled={(dir > 0 && subscribed) || (dir < 0 && (!subscribed || tier === "enterprise"))}
                  onClick={() => choose(tier)}>{dir > 0 ? `Upgrade to ${tier}` : `Downgrade to ${tier}`}</Button>
              )}
            </section>
          );
        })}
      </div>
    </Card>
  );
}

function Invoices() {
  const [page, setPage] = useState(1);
  const invoices = useQuery({
    queryKey: ["billing", "invoices", page],
    queryFn: async () => unwrap(await api.GET("/api/v1/billing/invoices", { params: { query: { page, per_page: 25 } } })),
  });
  return (
    <Card title="Invoices">
      {invoices.isPending && <Loading />}
      <ErrorAlert error={invoices.error} />
      {invoices.data?.items.length === 0 && <Empty title="No invoices yet" />}
      {!!invoices.data?.items.length && (
        <div className="table-wrap"><table className="table">
          <caption className="sr-only">Invoices</caption>
          <thead><tr><th scope="col">Number</th><th scope="col">Period</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col"><span className="sr-only">Links</span></th></tr></thead>
          <tbody>{invoices.data.items.map((inv) => (
            <tr key={inv.id}>
              <td className="mono">{inv.number ?? inv.stripe_invoice_id}</td>
              <td>{formatDateTime(inv.period_start)} – {formatDateTime(inv.period_end)}</td>
              <td>{formatMoney(inv.amount_due, inv.currency)}{inv.amount_paid !== inv.amount_due && <div className="muted">paid {formatMoney(inv.amount_paid, inv.currency)}</div>}</td>
              <td><StatusBadge status={inv.status} /></td>
              <td className="row">
                {inv.hosted_invoice_url && <a href={inv.hosted_invoice_url} target="_blank" rel="noopener noreferrer">View</a>}
                {inv.invoice_pdf && <a href={inv.invoice_pdf} target="_blank" rel="noopener noreferrer">PDF</a>}
              </td>
            </tr>))}</tbody>
        </table></div>
      )}
      {invoices.data && <Pager page={page} totalPages={invoices.data.total_pages} total={invoices.data.total} onPage={setPage} label="Invoices" />}
    </Card>
  );
}
