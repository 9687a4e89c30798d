import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { slugify } from "../../lib/statusPage";
import { formatDateTime } from "../../lib/format";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Empty, ErrorAlert, Loading, PageHead, SelectField, TextField } from "../../ui";
import { Pager } from "../../ui/Pager";

type Visibility = "public" | "password" | "members";

export function StatusPages() {
  useTitle("Status pages");
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [page, setPage] = useState(1);
  const list = useQuery({
    queryKey: ["status-pages", { page }],
    queryFn: async () => unwrap(await api.GET("/api/v1/status-pages", { params: { query: { page, per_page: 25 } } })),
  });
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  const [visibility, setVisibility] = useState<Visibility>("public");
  const [password, setPassword] = useState("");
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/api/v1/status-pages", { body: {
      name, slug, visibility, password: visibility === "password" ? password : null,
      brand_color: "#1f6feb", time_zone: "UTC", show_uptime_bars: true, show_response_times: false, show_maintenance: true,
      past_incident_days: 14 } })),
    onSuccess: async (p) => {
      await qc.invalidateQueries({ queryKey: ["status-pages"] });
      navigate(`/status-pages/${p.id}`);
    },
  });
  const fields = create.error instanceof ApiError ? create.error.fields : {};
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <PageHead title="Status pages" subtitle="Public (or private) pages that show your customers how your services are doing." />
      <div className="stack">
        <Card title="Pages">
          {list.isPending && <Loading />}
          <ErrorAlert error={list.error} />
          {list.data?.items.length === 0 && <Empty title="No status pages yet"><p>Create one below, then add components bound to your monitors and heartbeats.</p></Empty>}
          {!!list.data?.items.length && (
            <div className="table-wrap"><table className="table">
              <caption className="sr-only">Status pages</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">Address</th><th scope="col">Visibility</th><th scope="col">Created</th></tr></thead>
              <tbody>{list.data.items.map((p) => (
                <tr key={p.id}>
                  <td><Link to={`/status-pages/${p.id}`}>{p.name}</Link></td>
                  <td><a href={p.public_url} target="_blank" rel="noopener noreferrer" className="mono">{p.custom_domain || `/status/${p.slug}`}</a></td>
                  <td>{p.visibility}</td>
                  <td>{formatDateTime(p.created_at)}</td>
                </tr>))}</tbody>
            </table></div>
          )}
          {list.data && <Pager page={page} totalPages={list.data.total_pages} total={list.data.total} onPage={setPage} label="Status pages" />}
        </Card>
        <Card title="New status page">
          {create.error && !Object.keys(fields).length ? <ErrorAlert error={create.error} /> : null}
          <form onSubmit={submit} noValidate style={{ maxWidth: 560 }}>
            <TextField label="Page name" required value={name} error={fields.name}
              onChange={(e) => { setName(e.target.value); if (!slugEdited) setSlug(slugify(e.target.value)); }} placeholder="Acme status" />
            <TextField label="Slug" required value={slug} error={fields.slug} className="input mono"
              onChange={(e) => { setSlug(e.target.value); setSlugEdited(true); }}
              hint={<>The page's address: <span className="mono">/status/{slug || "…"}</span></>} />
            <SelectField label="Visibility" value={visibility} onChange={(e) => setVisibility(e.target.value as Visibility)} error={fields.visibility}>
              <option value="public">public: anyone with the link</option>
              <option value="password">password: visitors enter a password</option>
              <option value="members">members: only signed-in members of this team</option>
            </SelectField>
            {visibility === "password" && (
              <TextField label="Page password" type="password" autoComplete="new-password" value={password} error={fields.password}
                onChange={(e) => setPassword(e.target.value)} />
            )}
            <Button type="submit" variant="primary" busy={create.isPending}>Create status page</Button>
          </form>
        </Card>
      </div>
    </>
  );
}
