import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, unwrap } from "../../api/client";
import { useTitle } from "../../lib/useTitle";
import { Button, Card, Checkbox, ErrorAlert, Loading, PageHead, SelectField, TextField } from "../../ui";

interface FormState {
  name: string;
  slug: string;
  mode: "interval" | "cron";
  interval: string;
  cron: string;
  timezone: string;
  grace: string;
  max_runtime: string;
  notify_late: boolean;
  tags: string;
}

const EMPTY: FormState = {
  name: "", slug: "", mode: "interval", interval: "3600", cron: "", timezone: "UTC", grace: "300",
  max_runtime: "", notify_late: false, tags: "",
};

const toInt = (v: string): number | null => (v.trim() === "" ? null : Number.parseInt(v, 10));

export function HeartbeatForm() {
  const { id } = useParams();
  const editing = Boolean(id);
  useTitle(editing ? "Edit heartbeat" : "New heartbeat");
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [form, setForm] = useState<FormState>(EMPTY);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const existing = useQuery({
    queryKey: ["heartbeats", id],
    queryFn: async () => unwrap(await api.GET("/api/v1/heartbeats/{heartbeat_id}", { params: { path: { heartbeat_id: id! } } })),
    enabled: editing,
  });
  useEffect(() => {
    const h = existing.data;
    if (h) {
      setForm({
        name: h.name, slug: h.slug, mode: h.cron ? "cron" : "interval", interval: String(h.interval), cron: h.cron ?? "",
        timezone: h.timezone, grace: String(h.grace), max_runtime: h.max_runtime ? String(h.max_runtime) : "",
        notify_late: h.notify_late, tags: h.tags.join(", "),
      });
    }
  }, [existing.data]);
  const fields = error instanceof ApiError ? error.fields : {};
  const set = (key: keyof FormState) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const schedule = form.mode === "cron"
      ? { cron: form.cron.trim(), timezone: form.timezone.trim() || "UTC" }
      : { interval: toInt(form.interval) };
    const common = {
      name: form.name.trim(),
      grace: toInt(form.grace),
      max_runtime: toInt(form.max_runtime),
      notify_late: form.notify_late,
      tags: form.tags.split(",").map((t) => t.trim()).filter(Boolean),
      ...schedule,
    };
    try {
      const saved = editing
        ? unwrap(await api.PUT("/api/v1/heartbeats/{heartbeat_id}", {
          params: { path: { heartbeat_id: id! } },
          body: { ...common, ...(form.mode === "interval" ? { cron: null } : {}) },
        }))
        : unwrap(await api.POST("/api/v1/heartbeats", { body: { ...common, slug: form.slug.trim() || null } }));
      await qc.invalidateQueries({ queryKey: ["heartbeats"] });
      navigate(`/heartbeats/${saved.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (editing && existing.isPending) return <Loading />;
  return (
    <>
      <PageHead title={editing ? `Edit ${existing.data?.name ?? "heartbeat"}` : "New heartbeat"}
        subtitle="Xinex expects a ping on this schedule; when one is missing past the grace period, an incident opens." />
      <Card>
        <ErrorAlert error={existing.error} />
        {error && !Object.keys(fields).length ? <ErrorAlert error={error} /> : null}
        <form onSubmit={submit} noValidate style={{ maxWidth: 560 }}>
          <TextField label="Name" required value={form.name} onChange={set("name")} error={fields.name}
            hint="What the job does, e.g. “nightly backup”." />
          {!editing && (
            <TextField label="Slug" value={form.slug} onChange={set("slug")} error={fields.slug}
              hint="Optional: the name in the native ping URL (/api/v1/hb/<slug>); made from the name when empty." />
          )}
          <SelectField label="Schedule" value={form.mode}
            onChange={(e) => setForm({ ...form, mode: e.target.value as FormState["mode"] })}>
            <option value="interval">Every N seconds</option>
            <option value="cron">Cron expression</option>
          </SelectField>
          {form.mode === "interval" ? (
            <TextField label="Period (seconds)" type="number" min={1} inputMode="numeric" value={form.interval}
              onChange={set("interval")} error={fields.interval} hint="How often the job runs." />
          ) : (
            <>
              <TextField label="Cron expression" value={form.cron} onChange={set("cron")} error={fields.cron}
                hint="Five fields, e.g. 30 2 * * 1-5" />
              <TextField label="Time zone" value={form.timezone} onChange={set("timezone")} error={fields.timezone} />
            </>
          )}
          <TextField label="Grace period (seconds)" type="number" min={0} inputMode="numeric" value={form.grace}
            onChange={set("grace")} error={fields.grace} hint="How late a ping may be before it counts as missed." />
          <TextField label="Maximum run time (seconds)" type="number" min={1} inputMode="numeric" value={form.max_runtime}
            onChange={set("max_runtime")} error={fields.max_runtime} hint="Optional: a started run that takes longer is flagged." />
          <TextField label="Tags" value={form.tags} onChange={set("tags")} error={fields.tags} hint="Comma-separated." />
          <Checkbox label="Also alert when a ping is late (not only when it is missed)" checked={form.notify_late}
            onChange={(e) => setForm({ ...form, notify_late: e.target.checked })} />
          <div className="row">
            <Button type="submit" variant="primary" busy={busy}>{editing ? "Save changes" : "Create heartbeat"}</Button>
            <Link className="btn" to={editing ? `/heartbeats/${id}` : "/heartbeats"}>Cancel</Link>
          </div>
        </form>
      </Card>
    </>
  );
}
