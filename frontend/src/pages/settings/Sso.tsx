import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import type { Ok } from "../../api/endpoints";
import { ME_KEY, useMe } from "../../api/session";
import { formatDateTime } from "../../lib/format";
import { parseIdpMetadata } from "../../lib/samlMetadata";
import { useTitle } from "../../lib/useTitle";
import { Alert, Button, Card, Checkbox, CopyButton, ErrorAlert, Loading, SelectField, TextArea, TextField } from "../../ui";

type Config = Ok<"/api/v1/sso/config", "get">;
type Role = "admin" | "member" | "viewer";
const EMPTY = { idp_entity_id: "", idp_sso_url: "", idp_slo_url: "", idp_x509_cert: "", default_role: "member" as Role,
  allowed_domains: "", enabled: true, enforce: false };

const ENFORCE_WARNING = "Enforce SSO? Every member's password and social sign-ins end now, yours included: "
  + "everyone signs in again through the identity provider. Use “Test sign-in” first. API tokens keep working.";

function Copyable({ label, value }: { label: string; value: string }) {
  return (
    <div className="row" style={{ alignItems: "flex-end", flexWrap: "nowrap" }}>
      <div style={{ flex: 1 }}><TextField label={label} readOnly value={value} className="input mono" /></div>
      <div className="field"><CopyButton text={value} label={`Copy ${label}`} /></div>
    </div>
  );
}

export function Sso() {
  useTitle("Single sign-on");
  const qc = useQueryClient();
  const me = useMe();
  const slug = me.data?.tenants.find((t) => t.id === me.data?.tenant_id)?.slug ?? "";
  const config = useQuery({
    queryKey: ["sso-config"],
    queryFn: async () => {
      const r = await api.GET("/api/v1/sso/config");
      if (r.response.status === 404) return null; // not configured yet
      return unwrap(r);
    },
  });
  const [form, setForm] = useState(EMPTY);
  const [xml, setXml] = useState("");
  const [metaUrl, setMetaUrl] = useState("");
  const [metaNote, setMetaNote] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  useEffect(() => {
    const c = config.data;
    if (c) setForm({ idp_entity_id: c.idp_entity_id, idp_sso_url: c.idp_sso_url, idp_slo_url: c.idp_slo_url ?? "",
      idp_x509_cert: c.idp_x509_cert, default_role: c.default_role as Role, allowed_domains: c.allowed_domains.join(", "),
      enabled: c.enabled, enforce: c.enforce });
  }, [config.data]);
  const save = useMutation({
    mutationFn: async () => unwrap(await api.PUT("/api/v1/sso/config", { body: {
      ...form, idp_slo_url: form.idp_slo_url.trim() || null,
      allowed_domains: form.allowed_domains.split(/[\s,]+/).filter(Boolean) } })),
    onSuccess: async (c) => {
      const newlyEnforced = c.enforce && !config.data?.enforce;
      qc.setQueryData(["sso-config"], c);
      // That ended a password session like this one: asking who we are finds out, and goes to sign-in if so.
      if (newlyEnforced) await qc.invalidateQueries({ queryKey: ME_KEY });
    },
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/v1/sso/config")),
    onSuccess: () => { qc.setQueryData(["sso-config"], null); setForm(EMPTY); },
  });
  const fields = save.error instanceof ApiError ? save.error.fields : {};
  const fill = (text: string) => {
    try {
      const m = parseIdpMetadata(text);
      setForm({ ...form, idp_entity_id: m.entityId, idp_sso_url: m.ssoUrl, idp_slo_url: m.sloUrl, idp_x509_cert: m.certificate });
      setMetaNote({ kind: "ok", text: "Filled in the entity id, sign-in URL, sign-out URL and certificate from the metadata. Review and save." });
    } catch (err) {
      setMetaNote({ kind: "error", text: (err as Error).message });
    }
  };
  const load = async () => {
    setMetaNote(null);
    try {
      const res = await fetch(metaUrl, { credentials: "omit" });
      if (!res.ok) throw new Error(`The IdP answered ${res.status}.`);
      const text = await res.text();
      setXml(text);
      fill(text);
    } catch (err) {
      setMetaNote({ kind: "error", text: err instanceof TypeError
        ? "The browser could not read that URL (the identity provider does not allow it from another site). Open it, copy the XML and paste it below."
        : (err as Error).message });
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // Switching enforcement on ends every password and social sign-in of the members, this one included.
    if (form.enforce && !config.data?.enforce && !window.confirm(ENFORCE_WARNING)) return;
    save.mutate();
  };
  if (config.isPending || me.isPending) return <Loading />;
  if (config.isError) {
    if (config.error instanceof ApiError && config.error.status === 403) {
      return <Alert kind="info">Only the team's admins and owners can configure single sign-on.</Alert>;
    }
    return <ErrorAlert error={config.error} />;
  }
  const c: Config | null = config.data;
  const origin = window.location.origin;
  const sp = c ? { entity: c.sp_entity_id, acs: c.sp_acs_url, metadata: c.sp_metadata_url, login: c.login_url } : {
    entity: `${origin}/api/v1/sso/${slug}/metadata`, acs: `${origin}/api/v1/sso/${slug}/acs`,
    metadata: `${origin}/api/v1/sso/${slug}/metadata`, login: `${origin}/api/v1/sso/login?tenant=${slug}` };
  return (
    <div className="stack">
      <Card title="Your identity provider needs these">
        <p className="muted">Create a SAML 2.0 application in your IdP (Okta, Entra ID, Google Workspace…) with these values,
          or give it our metadata URL.</p>
        <Copyable label="ACS URL" value={sp.acs} />
        <Copyable label="SP entity id" value={sp.entity} />
        <Copyable label="SP metadata URL" value={sp.metadata} />
      </Card>
      <Card title="SAML configuration">
        {c ? (
          <Alert kind={c.enabled ? "ok" : "info"}>
            SSO is {c.enabled ? "on" : "off"}{c.enforce ? " and enforced: members must sign in through the IdP" : ""}.
            Certificate {c.idp_cert_subject}, valid until {formatDateTime(c.idp_cert_not_after)}
            {" "}(SHA-256 <span className="mono">{c.idp_cert_fingerprint_sha256.slice(0, 23)}…</span>).
          </Alert>
        ) : <Alert kind="info">Single sign-on is not configured for this team.</Alert>}
        <details>
          <summary>Fill in from the IdP's metadata</summary>
          <div className="stack" style={{ marginTop: ".75rem" }}>
            {metaNote && <Alert kind={metaNote.kind}>{metaNote.text}</Alert>}
            <div className="row" style={{ alignItems: "flex-end" }}>
              <TextField label="IdP metadata URL" type="url" value={metaUrl} onChange={(e) => setMetaUrl(e.target.value)} />
              <div className="field"><Button onClick={load} disabled={!metaUrl}>Load metadata</Button></div>
            </div>
            <TextArea label="IdP metadata XML" rows={5} value={xml} onChange={(e) => setXml(e.target.value)} />
            <div><Button onClick={() => fill(xml)} disabled={!xml.trim()}>Read metadata</Button></div>
          </div>
        </details>
        {save.isSuccess && <Alert kind="ok">SSO configuration saved.</Alert>}
        {save.error && !Object.keys(fields).length ? <ErrorAlert error={save.error} /> : null}
        <form onSubmit={submit} noValidate style={{ maxWidth: 720, marginTop: "1rem" }}>
          <TextField label="IdP entity id" required value={form.idp_entity_id} error={fields.idp_entity_id}
            onChange={(e) => setForm({ ...form, idp_entity_id: e.target.value })} />
          <TextField label="IdP sign-in URL" type="url" required value={form.idp_sso_url} error={fields.idp_sso_url}
            onChange={(e) => setForm({ ...form, idp_sso_url: e.target.value })} hint="The SingleSignOnService location." />
          <TextField label="IdP sign-out URL" type="url" value={form.idp_slo_url} error={fields.idp_slo_url}
            onChange={(e) => setForm({ ...form, idp_slo_url: e.target.value })} hint="Optional." />
          <TextArea label="IdP signing certificate" required rows={6} value={form.idp_x509_cert} error={fields.idp_x509_cert}
            onChange={(e) => setForm({ ...form, idp_x509_cert: e.target.value })} hint="PEM (-----BEGIN CERTIFICATE-----…)." />
          <SelectField label="Role of new members" value={form.default_role} error={fields.default_role}
            onChange={(e) => setForm({ ...form, default_role: e.target.value as Role })}
            hint="People who sign in through the IdP for the first time join with this role.">
            <option value="viewer">viewer</option><option value="member">member</option><option value="admin">admin</option>
          </SelectField>
          <TextField label="Allowed e-mail domains" value={form.allowed_domains} error={fields.allowed_domains}
            onChange={(e) => setForm({ ...form, allowed_domains: e.target.value })} hint="Comma-separated, e.g. acme.com, acme.io. Empty: any." />
          <Checkbox label="Enabled" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />
          <Checkbox label="Enforce SSO (members cannot sign in with a password)" checked={form.enforce}
            onChange={(e) => setForm({ ...form, enforce: e.target.checked })} />
          <div className="row">
            <Button type="submit" variant="primary" busy={save.isPending}>Save SSO configuration</Button>
            {c && <a className="btn" href={sp.login} target="_blank" rel="noopener noreferrer">Test sign-in</a>}
            {c && <Button variant="danger" busy={remove.isPending}
              onClick={() => { if (window.confirm("Remove the SSO configuration? Members sign in with passwords again.")) remove.mutate(); }}>
              Remove SSO</Button>}
          </div>
          <ErrorAlert error={remove.error} />
          {c && <p className="muted">“Test sign-in” opens the IdP in a new tab; coming back signed in proves the setup works.</p>}
        </form>
      </Card>
    </div>
  );
}
